#!/usr/bin/env python3
"""browse.py: the web browser of test/oauth.bats (no curl needed).

  browse.py --ca CA URL               GET, following redirects (https to the loopback
                                      http listener too); print the final body; exit 0
                                      on 2xx, else 1
  browse.py --ca CA --location URL    GET without following; print the Location header
  browse.py --ca CA --status URL      GET without following; print the status code

Proxies from the environment are ignored: everything here is on loopback.
"""
import argparse
import ssl
import sys
import urllib.error
import urllib.request


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--ca', required=True)
    p.add_argument('--location', action='store_true')
    p.add_argument('--status', action='store_true')
    p.add_argument('url')
    a = p.parse_args()
    ctx = ssl.create_default_context(cafile=a.ca)
    handlers = [urllib.request.ProxyHandler({}), urllib.request.HTTPSHandler(context=ctx)]
    if a.location or a.status:
        handlers.append(NoRedirect())
    opener = urllib.request.build_opener(*handlers)
    try:
        r = opener.open(a.url, timeout=10)
        code, headers, body = r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        code, headers, body = e.code, e.headers, e.read()
    if a.status:
        print(code)
        return 0
    if a.location:
        loc = headers.get('Location')
        if loc is None:
            return 1
        print(loc)
        return 0
    sys.stdout.write(body.decode('utf-8', 'replace'))
    return 0 if 200 <= code < 300 else 1


if __name__ == '__main__':
    sys.exit(main())
