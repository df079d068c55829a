# Percona proxysql_exporter for the docker-compose stack. Percona publishes no maintained
# image, so it is built from source; pin the module version you reviewed (@vX.Y.Z or a
# commit) before using this anywhere but a laptop.
FROM golang:1.21-alpine AS build
RUN CGO_ENABLED=0 go install github.com/percona/proxysql_exporter@latest

FROM alpine:3.19
COPY --from=build /go/bin/proxysql_exporter /usr/local/bin/proxysql_exporter
USER nobody
EXPOSE 42004
ENTRYPOINT ["/usr/local/bin/proxysql_exporter"]
