# sysmetrics %preun: on final removal, stop and disable the service, and
# drop the quarantine records (state about plugins removed with it), so
# that rpm can remove the directory.
if [ "$1" -eq 0 ] && [ -d /run/systemd/system ]; then
  systemctl disable --now sysmetrics.service >/dev/null 2>&1 || :
fi
if [ "$1" -eq 0 ]; then
  rm -f /var/lib/sysmetrics/quarantine/* 2>/dev/null || :
fi
exit 0
