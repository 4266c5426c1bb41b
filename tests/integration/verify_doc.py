#!/usr/bin/python3
"""verify_doc.py: an independent check of an alcove attestation document, sharing no code with
alcove: Python's standard library, cbor2 and cryptography only (Debian: python3-cbor2,
python3-cryptography). It decodes the COSE_Sign1, checks the protected header, the payload's
keys, their order and types, verifies the ES384 signature with the leaf certificate's key, and
the leaf's signature and dates under the CA certificate (which must be cabundle[0]).

Usage: verify_doc.py DOCUMENT CA.pem [--nonce HEX] [--pcr N=HEX ...]
Exit status 0 and "OK ..." when the document is valid; 1 and "FAIL: reason" otherwise.
"""
import datetime
import sys

import cbor2
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, utils

KEYS = ["module_id", "digest", "timestamp", "pcrs", "certificate", "cabundle", "public_key",
        "user_data", "nonce"]


class Invalid(Exception):
    pass


def check(cond, why):
    if not cond:
        raise Invalid(why)


def verify(doc, ca_pem, nonce=None, pcrs=None):
    try:
        cose = cbor2.loads(doc)
    except Exception as e:  # cbor2 raises several types
        raise Invalid("not CBOR: %s" % e)
    check(isinstance(cose, list) and len(cose) == 4, "not a COSE_Sign1 array of 4")
    check(doc[0] == 0x84, "the document is not an untagged array(4)")
    prot, unprot, payload, sig = cose
    check(isinstance(prot, bytes) and cbor2.loads(prot) == {1: -35}, "protected header is not {1: -35}")
    check(prot == bytes.fromhex("a1013822"), "protected header bytes are not a1013822")
    check(unprot == {}, "unprotected header is not empty")
    check(isinstance(payload, bytes), "payload is not a byte string")
    check(isinstance(sig, bytes) and len(sig) == 96, "signature is not 96 bytes")
    check(cbor2.dumps(cose) == doc, "the document is not canonically encoded")

    p = cbor2.loads(payload)
    check(isinstance(p, dict), "payload is not a map")
    check(list(p.keys()) == KEYS, "payload keys are %r" % list(p.keys()))
    check(isinstance(p["module_id"], str) and p["module_id"], "module_id")
    check(p["digest"] == "SHA384", "digest")
    check(isinstance(p["timestamp"], int) and p["timestamp"] > 0, "timestamp")
    check(b"\x69timestamp\x1b" in payload, "timestamp is not an 8-byte integer")
    now_ms = int(datetime.datetime.now(datetime.timezone.utc).timestamp() * 1000)
    check(abs(now_ms - p["timestamp"]) < 7 * 24 * 3600 * 1000, "timestamp is not milliseconds")
    check(isinstance(p["pcrs"], dict) and 1 <= len(p["pcrs"]) <= 32, "pcrs")
    for k, v in p["pcrs"].items():
        check(isinstance(k, int) and 0 <= k < 32, "pcr index %r" % k)
        check(isinstance(v, bytes) and len(v) == 48, "PCR%d is not 48 bytes" % k)
    check(list(p["pcrs"].keys()) == sorted(p["pcrs"].keys()), "pcrs not in index order")
    check(all(i in p["pcrs"] for i in range(16)), "PCRs 0..15 (locked at boot) are not all there")
    check(isinstance(p["certificate"], bytes) and 1 <= len(p["certificate"]) <= 1024, "certificate")
    check(isinstance(p["cabundle"], list) and p["cabundle"], "cabundle")
    for c in p["cabundle"]:
        check(isinstance(c, bytes) and 1 <= len(c) <= 1024, "cabundle entry")
    for k in ("public_key", "user_data", "nonce"):
        check(p[k] is None or (isinstance(p[k], bytes) and len(p[k]) <= 1024), k)

    ca = x509.load_pem_x509_certificate(ca_pem)
    leaf = x509.load_der_x509_certificate(p["certificate"])
    root = x509.load_der_x509_certificate(p["cabundle"][0])
    check(root == ca, "cabundle[0] is not the CA certificate")
    check(len(p["cabundle"]) == 1, "alcove's chain is [root] only")
    now = datetime.datetime.utcnow()
    for c, name in ((ca, "CA"), (leaf, "leaf")):
        check(c.not_valid_before <= now <= c.not_valid_after, "%s certificate not valid now" % name)
    bc = ca.extensions.get_extension_for_class(x509.BasicConstraints)
    check(bc.critical and bc.value.ca, "CA basicConstraints")
    bc = leaf.extensions.get_extension_for_class(x509.BasicConstraints)
    check(bc.critical and not bc.value.ca, "leaf basicConstraints")
    ku = leaf.extensions.get_extension_for_class(x509.KeyUsage)
    check(ku.critical and ku.value.digital_signature, "leaf keyUsage")
    check(isinstance(leaf.public_key(), ec.EllipticCurvePublicKey)
          and leaf.public_key().curve.name == "secp384r1", "leaf key is not P-384")
    check(leaf.issuer == ca.subject, "leaf issuer is not the CA")
    try:
        ca.public_key().verify(leaf.signature, leaf.tbs_certificate_bytes,
                               ec.ECDSA(leaf.signature_hash_algorithm))
    except InvalidSignature:
        raise Invalid("the leaf is not signed by the CA")
    check(leaf.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)[0].value
          == p["module_id"], "leaf CN is not the module id")

    sig_structure = cbor2.dumps(["Signature1", prot, b"", payload])
    der = utils.encode_dss_signature(int.from_bytes(sig[:48], "big"),
                                     int.from_bytes(sig[48:], "big"))
    try:
        leaf.public_key().verify(der, sig_structure, ec.ECDSA(hashes.SHA384()))
    except InvalidSignature:
        raise Invalid("the COSE signature does not verify")

    if nonce is not None:
        check(p["nonce"] == nonce, "nonce mismatch")
    for i, v in (pcrs or {}).items():
        check(p["pcrs"].get(i) == v, "PCR%d mismatch" % i)
    return p


def main(argv):
    if len(argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    doc = open(argv[1], "rb").read()
    ca_pem = open(argv[2], "rb").read()
    nonce, pcrs, args = None, {}, argv[3:]
    while args:
        opt = args.pop(0)
        if opt == "--nonce":
            nonce = bytes.fromhex(args.pop(0))
        elif opt == "--pcr":
            n, v = args.pop(0).split("=", 1)
            pcrs[int(n)] = bytes.fromhex(v)
        else:
            print("unknown option %s" % opt, file=sys.stderr)
            return 2
    try:
        p = verify(doc, ca_pem, nonce, pcrs)
    except Invalid as e:
        print("FAIL: %s" % e)
        return 1
    except Exception as e:  # anything unexpected in a damaged document is a failure too
        print("FAIL: %s: %s" % (type(e).__name__, e))
        return 1
    print("OK module_id=%s pcrs=%d" % (p["module_id"], len(p["pcrs"])))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
