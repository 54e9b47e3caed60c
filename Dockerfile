# The pipewatch worker, for docker-compose.yml (or your own deployment).
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o /pipewatch ./cmd/pipewatch
# The state folder (logs, spool, artifacts), owned by the runtime user so a
# named volume mounted there is writable.
RUN mkdir -p /state/pipewatch

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /pipewatch /pipewatch
COPY --from=build --chown=65532:65532 /state/pipewatch /var/lib/pipewatch
USER nonroot
EXPOSE 9464
ENTRYPOINT ["/pipewatch"]
CMD ["worker"]
