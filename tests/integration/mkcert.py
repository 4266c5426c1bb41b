#!/usr/bin/env python3
"""mkcert.py KEY.pem CERT.pem CN FROM_DAYS TO_DAYS: an ECDSA P-384 key and a self-signed
certificate valid from now+FROM_DAYS to now+TO_DAYS (negative: in the past), for the tests."""
import datetime
import sys

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

key_path, cert_path, cn, start, end = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
key = ec.generate_private_key(ec.SECP384R1())
name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
now = datetime.datetime.now(datetime.timezone.utc)
cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now + datetime.timedelta(days=start))
        .not_valid_after(now + datetime.timedelta(days=end))
        .sign(key, hashes.SHA384()))
open(key_path, "wb").write(key.private_bytes(serialization.Encoding.PEM,
                                             serialization.PrivateFormat.PKCS8,
                                             serialization.NoEncryption()))
open(cert_path, "wb").write(cert.public_bytes(serialization.Encoding.PEM))
