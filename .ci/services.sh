#!/usr/bin/env bash
# Make sure the services the integration tests talk to are up on this machine.
# Each is started with the command the machine page documents; in CI (CI=true) a service that
# still does not answer is a hard failure, never a skipped test.
set -u

wait_port() {  # host port seconds
    local host=$1 port=$2 secs=$3
    for _ in $(seq "$secs"); do
        (exec 3<>"/dev/tcp/$host/$port") 2>/dev/null && { exec 3>&- 3<&-; return 0; }
        sleep 1
    done
    return 1
}

ensure() {  # name port start-command
    local name=$1 port=$2 start=$3
    if wait_port 127.0.0.1 "$port" 1; then
        echo "services: $name up on $port"
        return 0
    fi
    echo "services: $name down on $port, starting it"
    bash -c "$start" >/dev/null 2>&1 || true
    if wait_port 127.0.0.1 "$port" 60; then
        echo "services: $name started on $port"
        return 0
    fi
    echo "services: $name did NOT start on port $port (tried: $start)" >&2
    return 1
}

failed=0
ensure postgresql 5432 'pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start' || failed=1
ensure mariadb 3306 'start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd' || failed=1
ensure rabbitmq 5672 'rabbitmq-server -detached' || failed=1
ensure redis 6379 'redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log' || failed=1

if [ "$failed" -ne 0 ]; then
    if [ "${CI:-}" = "true" ]; then
        echo "services: a service the tests need is missing; failing CI rather than skipping its tests" >&2
        exit 1
    fi
    echo "services: warning: some services are down; their tests will fail" >&2
fi
exit 0
