#!/usr/bin/env python3
"""GETs each path (arguments after the kubeconfig) over HTTP/1.1 on one TLS connection with the kubeconfig's client
certificate, as most clients other than kubectl talk to the API server."""
import base64
import http.client
import os
import re
import ssl
import sys
import tempfile
from urllib.parse import urlparse

text = open(sys.argv[1], encoding="utf-8").read()
server = urlparse(re.search(r"server: *(\S+)", text).group(1))
with tempfile.TemporaryDirectory() as directory:
    paths = {}
    for field, name in (("certificate-authority-data", "ca.pem"), ("client-certificate-data", "cert.pem"), ("client-key-data", "key.pem")):
        paths[name] = os.path.join(directory, name)
        with open(paths[name], "wb") as out:
            out.write(base64.b64decode(re.search(field + r": *(\S+)", text).group(1)))
    context = ssl.create_default_context(cafile=paths["ca.pem"])
    context.check_hostname = False
    context.load_cert_chain(paths["cert.pem"], paths["key.pem"])
    connection = http.client.HTTPSConnection(server.hostname, server.port, context=context, timeout=30)
    for path in sys.argv[2:]:
        connection.request("GET", path)
        response = connection.getresponse()
        response.read()
        if response.status != 200:
            sys.exit(f"GET {path}: {response.status}")
    connection.close()
