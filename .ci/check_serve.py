"""CI's check of the README's serve command: wait (at most 90 s) for the server whose sign-in
links are in LINKS (CSV: id,name,link), then sign the first student in with their link and
open their exam page. Exits non-zero, saying why, if any step fails. Standard library only."""

import csv
import http.cookiejar
import re
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

with open(sys.argv[1], encoding="utf-8") as f:
    rows = list(csv.DictReader(f))
link = rows[0]["link"]
base = link.split("/signin", 1)[0]
jar = http.cookiejar.CookieJar()
opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
deadline = time.monotonic() + 90
while True:
    try:
        opener.open(base + "/", timeout=5).read()
        break
    except (urllib.error.URLError, ConnectionError, TimeoutError) as exc:
        if time.monotonic() > deadline:
            sys.exit(f"the server at {base} did not answer in 90 s: {exc}")
        time.sleep(0.5)
page = opener.open(link, timeout=10).read().decode()
token = re.search(r'name="token" value="([^"]+)"', page)
if token is None:
    sys.exit("the sign-in page has no sign-in form")
request = urllib.request.Request(
    base + "/signin",
    data=urllib.parse.urlencode({"token": token.group(1)}).encode(),
    headers={"Origin": base},
)
opener.open(request, timeout=10).read()
exam = opener.open(base + "/exam", timeout=10).read().decode()
if rows[0]["name"] not in exam or "<textarea" not in exam:
    sys.exit(f"signed in as {rows[0]['id']}, but the exam page is not their paper")
print(f"serve: {rows[0]['id']} signed in with their link and opened their paper at {base}")
