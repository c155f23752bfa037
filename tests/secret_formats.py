"""Secrets in the formats perfpack.redact knows, as pairs (text holding the secret, a part of it that must
never be stored in clear), and look-alikes that are not secrets. One list for every test of redaction:
memory (tests/adversarial/test_memory.py) and the measuring commands' files (tests/adversarial/
test_secrets.py)."""

from __future__ import annotations

# Item 3's formats as the attack run used them, then fresh ones of the same kinds (never seen before).
SECRETS = [
    ("aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "wJalrXUtnFEMI"),
    ("AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "K7MDENG"),
    ("alert via https://hooks.slack.com/services/T0AAAAAAA/B0BBBBBBB/abcdefghijklmnopqrstuvwx",
     "abcdefghijklmnop"),
    ("charge with sk_live_51HcQmQJv9yXyZexample0123456789", "51HcQmQJv9"),
    ("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4ifQ."
     "SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c", "SflKxwRJSMeKKF2QT4"),
    ("-----BEGIN PGP PRIVATE KEY BLOCK-----\n\nlQOYBGSecretKeyMaterialHere\n=abcd\n"
     "-----END PGP PRIVATE KEY BLOCK-----", "lQOYBGSecretKeyMaterial"),
    ("cache at redis://:S3cr3tRedisPw@cache.internal:6379/0", "S3cr3tRedisPw"),
    ("db at mysql://app:pa/ss:w0rd@db.internal:3306/shop", "pa/ss:w0rd"),
    ("DATABASE_PASSWORD=Tr0ub4dor&3", "Tr0ub4dor"),
    ("DB_PASS=correcthorsebattery", "correcthorsebattery"),
    ("curl -H 'Authorization: Basic dXNlcjpzM2NyM3RwYXNzd29yZA=='", "dXNlcjpzM2NyM3Rw"),
    # fresh ones of the same kinds
    ("[default]\naws_secret_access_key=AbCdEfGhIjKlMnOpQrStUvWxYz0123456789abcd", "AbCdEfGhIjKlMnOp"),
    ("export AWS_SECRET_ACCESS_KEY='Zz9/Yy8+Xx7Ww6Vv5Uu4Tt3Ss2Rr1Qq0PpOoNnMm'", "Zz9/Yy8+Xx7"),
    ("webhook: https://hooks.slack.com/workflows/T1/A2/123/QqWwEeRrTtYy", "QqWwEeRrTtYy"),
    ("rk_live_0123456789abcdefGHIJ restricted key", "0123456789abcdefGHIJ"),
    ("Bearer-less eyJraWQiOiIxIn0.eyJleHAiOjE3MDAwMDAwMDB9.c2lnbmF0dXJlLXZhbHVlLWhlcmU in a log",
     "c2lnbmF0dXJl"),
    ("-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAA\n-----END OPENSSH PRIVATE KEY-----",
     "b3BlbnNzaC1rZXkt"),
    ("amqp://:guestpw123@rabbit:5672", "guestpw123"),
    ("postgres://svc:p@ss/w:rd@pg:5432/app", "ss/w:rd"),
    ("REDIS_PASSWORD=xyzzy-plugh-42", "xyzzy-plugh"),
    ("SMTP_PASS: 'mailpass99'", "mailpass99"),
    ("authorization=Basic YWRtaW46YWRtaW4xMjM0NTY=", "YWRtaW46YWRtaW4x"),
    # attack run after the issue: token formats, glued names and command-line secrets that got through
    ("key AIzaSyB9x8c7V6b5N4m3L2k1J0h9G8f7D6s5A4q", "SyB9x8c7V6b5N4m3L2k1"),
    ("glpat-Zq9Xw8Ev7Rc6Tb5Yn4Um", "Zq9Xw8Ev7Rc6Tb5Yn4Um"),
    ("//registry.npmjs.org/:_authToken=npm_Qw1Er2Ty3Ui4Op5As6Df7Gh8Jk9Lz0Xc1Vb2N", "Qw1Er2Ty3Ui4Op5As6"),
    ("PGPASSWORD=PgPassw0rdXYZ psql -h db", "PgPassw0rdXYZ"),
    ("AccountName=acct;AccountKey=AzK3yB4se64Stuff0123456789abcdefABCD==;EndpointSuffix=x",
     "AzK3yB4se64Stuff"),
    ("clientSecret: 'CliSecr3tValue77'", "CliSecr3tValue77"),
    ("psql --password=CliPassw0rd99 -h db", "CliPassw0rd99"),
    ("deploy --api-key 9f8e7d6c5b4a39281706 now", "9f8e7d6c5b4a39281706"),
    ("sshpass -p 'SshPassw0rd!' ssh host", "SshPassw0rd"),
    ("mysql -u root -pMyS3cretPw shop", "MyS3cretPw"),
    ("HF token hf_AbCdEfGhIjKlMnOpQrStUvWxYz01234567", "AbCdEfGhIjKlMnOpQrSt"),
    ("SG.AbCdEfGhIjKlMnOpQrStUv.wXyZ0123456789AbCdEfGhIjKlMnOpQrStUvWxYz0", "wXyZ0123456789AbCdEf"),
    # Twilio: account SID + auth token, API key (+ its secret), and the token named in prose
    ("Client('AC0c1d2e3f4a5b6c7d0c1d2e3f4a5b6c7d', '5e4d3c2b1a0f9e8d5e4d3c2b1a0f9e8d')", "5e4d3c2b1a0f9e8d"),
    ("curl -u AC0c1d2e3f4a5b6c7d0c1d2e3f4a5b6c7d:7a6b5c4d3e2f1a0b7a6b5c4d3e2f1a0b https://api.twilio.com",
     "7a6b5c4d3e2f1a0b"),
    ("twilio api key SK9f8e7d6c5b4a3f2e9f8e7d6c5b4a3f2e", "SK9f8e7d6c5b4a3f2e"),
    ('Client("SK9f8e7d6c5b4a3f2e9f8e7d6c5b4a3f2e", "Zq7Wm3Xr9Tk2Vp5Ny8Lb4Hc6Jd1Gf0Ss")', "Zq7Wm3Xr9Tk2Vp5"),
    ("the auth token is 1f2e3d4c5b6a79881f2e3d4c5b6a7988", "1f2e3d4c5b6a7988"),
    # URLs and command lines that measuring commands keep (ledger, baselines): query parameters named like a
    # secret, a URL's user:password, curl's -u user:password
    ("GET http://127.0.0.1:8000/orders?token=QueryTok3n55&x=1", "QueryTok3n55"),
    ("https://maps.example.com/v1/geo?key=AbcKeyValue77", "AbcKeyValue77"),
    ("https://api.example.com/v1?page=2&api_key=ApiKeyVal88", "ApiKeyVal88"),
    ("https://api.example.com/v1?access_token=AccTokVal99#top", "AccTokVal99"),
    ("https://acct.blob.core.windows.net/c/b?sv=2021-08-06&sig=SasSigValue1234%3D", "SasSigValue1234"),
    ("https://app.example.com/cb#access_token=FragTok3n66&state=1", "FragTok3n66"),
    ("http://admin:UrlPassw0rd@127.0.0.1:8000/health", "UrlPassw0rd"),
    ("curl -s -u admin:CurlUserPw42 http://127.0.0.1:8000/", "CurlUserPw42"),
]
# A secret in the argv element after the one naming it: perfpack.redact.redact_argv redacts that element.
ARGV_SECRETS = [
    (["psql", "--password", "SplitPassw0rd1", "-h", "db"], "SplitPassw0rd1"),
    (["deploy", "--api-key", "SplitApiKey22", "now"], "SplitApiKey22"),
    (["sshpass", "-p", "Split Ssh Pw3", "ssh", "host"], "Split Ssh Pw3"),
    (["curl", "-s", "-u", "admin:SplitCurlPw4", "http://127.0.0.1/"], "SplitCurlPw4"),
    (["mysql", "-u", "root", "-pSplitMyPw5", "shop"], "SplitMyPw5"),
    (["curl", "-H", "Authorization: Bearer SplitBearer66aa", "http://127.0.0.1/"], "SplitBearer66aa"),
]
# Identifiers that look like those secrets and are not: git SHAs, a 34-character id that is not a
# Twilio SID (lowercase `ac`, uppercase hex), an account SID alone (an identifier, like a user name).
NOT_SECRETS = ("bisected to 3f1c2a9b8e7d6c5b4a39281706f5e4d3c2b1a098 (3f1c2a9b8e7d6c5b4a39281706f5e4d3c2)",
               "build ac0123456789abcdef0123456789abcdef", "trace AC0123456789ABCDEF0123456789ABCDEF",
               "account AC0c1d2e3f4a5b6c7d0c1d2e3f4a5b6c7d (no token)", "sha256 " + "ac" * 32,
               # query parameters and options that only look like secret ones
               "GET /search?keyword=perf&sort_key=name&author=bob", "docker run -u 1000:1000 app")
