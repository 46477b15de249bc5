# sysmetrics %post: enable on first install, restart on upgrade, where
# systemd runs (the %systemd_post macro's behaviour, spelled out).
if [ -d /run/systemd/system ]; then
  systemctl daemon-reload >/dev/null 2>&1 || :
  if [ "$1" -eq 1 ]; then
    systemctl enable --now sysmetrics.service >/dev/null 2>&1 || :
  else
    systemctl try-restart sysmetrics.service >/dev/null 2>&1 || :
  fi
fi
exit 0
