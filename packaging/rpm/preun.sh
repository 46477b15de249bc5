# sysmetrics %preun: on final removal, stop and disable the service.
if [ "$1" -eq 0 ] && [ -d /run/systemd/system ]; then
  systemctl disable --now sysmetrics.service >/dev/null 2>&1 || :
fi
exit 0
