# sysmetrics %pre: create the system user before files are installed.
getent group sysmetrics >/dev/null || groupadd -r sysmetrics
getent passwd sysmetrics >/dev/null || \
  useradd -r -g sysmetrics -d /nonexistent -s /sbin/nologin \
    -c "sysmetrics exporter" sysmetrics
exit 0
