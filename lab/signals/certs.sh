#!/usr/bin/env bash
# The experiment's certificates: a lab CA, a leaf for the lab names signed by it, and a
# self-signed "interceptor" certificate (what a TLS-intercepting censor presents).
set -euo pipefail
cd "$(dirname "$0")" && mkdir -p certs && cd certs
openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj /CN=netreach-signals-ca -keyout ca.key -out ca.pem
printf 'subjectAltName=DNS:lab.example,DNS:*.ok.example,DNS:*.rst.example,DNS:*.mitm.example\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' > leaf.ext
openssl req -newkey rsa:2048 -nodes -subj /CN=lab.example -keyout leaf.key -out leaf.csr
openssl x509 -req -in leaf.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 30 -extfile leaf.ext -out leaf.pem
openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj /CN=lab.example -addext "subjectAltName=DNS:*.mitm.example" -keyout mitm.key -out mitm.pem
