# The docker-compose "healthcheck" service: MariaDB client, redis-cli and curl.
FROM mariadb:10.11
RUN apt-get update \
    && apt-get install -y --no-install-recommends redis-tools curl \
    && rm -rf /var/lib/apt/lists/*
