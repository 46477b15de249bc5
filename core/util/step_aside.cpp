#include "util/step_aside.hpp"

namespace sysmetrics {
namespace {

thread_local StepAsideHook* t_hook = nullptr;
thread_local int t_depth = 0;  // StepAsides alive on this thread

}  // namespace

void SetStepAsideHook(StepAsideHook* hook) { t_hook = hook; }

StepAside::StepAside() : hook_(t_depth++ == 0 ? t_hook : nullptr) {
  if (hook_ != nullptr) hook_->Leave();
}

StepAside::~StepAside() {
  --t_depth;
  if (hook_ != nullptr) hook_->Return();
}

}  // namespace sysmetrics
