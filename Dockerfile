# Multi-stage build: a static binary on a distroless base (about 15 MB).
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags '-s -w' -o /out/odatagw ./cmd/odatagw

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/odatagw /odatagw
EXPOSE 8080
ENV ODATAGW_LISTEN=0.0.0.0:8080
ENTRYPOINT ["/odatagw", "serve"]
