#include "util/step_aside.hpp"

namespace sysmetrics {
namespace {

thread_local StepAsideHook* t_hook = nullptr;

}  // namespace

void SetStepAsideHook(StepAsideHook* hook) { t_hook = hook; }

StepAside::StepAside() : hook_(t_hook) {
  if (hook_ != nullptr) hook_->Leave();
}

StepAside::~StepAside() {
  if (hook_ != nullptr) hook_->Return();
}

}  // namespace sysmetrics
