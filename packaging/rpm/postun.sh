# sysmetrics %postun: reload systemd's view of units after removal.
if [ -d /run/systemd/system ]; then
  systemctl daemon-reload >/dev/null 2>&1 || :
fi
exit 0
