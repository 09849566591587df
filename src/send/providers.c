/*
 * providers.c: the built-in provider table. See providers.h.
 *
 * What each provider documents for SMTP submission (as of 2026): the host, implicit
 * TLS on 465 first where it is offered (no STARTTLS to strip), and how programs sign
 * in. Providers change this rarely; the ISPDB and the domain's own records cover the
 * rest of the world.
 */
#include <stddef.h>
#include <string.h>
#include <strings.h>

#include "send/candidate.h"
#include "send/providers.h"

static const char *const gmail_d[] = { "gmail.com", "googlemail.com", NULL };
static const char *const google_mx[] = { ".google.com", ".googlemail.com", NULL };
static const char *const outlook_d[] = { "outlook.com", "hotmail.com", "live.com", "msn.com",
	"hotmail.co.uk", "hotmail.fr", "hotmail.de", "hotmail.it", "hotmail.es", "outlook.de",
	"outlook.fr", "live.co.uk", "live.fr", "live.de", NULL };
static const char *const ms365_mx[] = { ".mail.protection.outlook.com", NULL };
static const char *const yahoo_d[] = { "yahoo.com", "ymail.com", "rocketmail.com", "yahoo.co.uk",
	"yahoo.fr", "yahoo.de", "yahoo.it", "yahoo.es", "yahoo.co.jp", NULL };
static const char *const icloud_d[] = { "icloud.com", "me.com", "mac.com", NULL };
static const char *const fastmail_d[] = { "fastmail.com", "fastmail.fm", "fastmail.us",
	"fastmail.org", "fastmail.net", "messagingengine.com", NULL };
static const char *const fastmail_mx[] = { ".messagingengine.com", NULL };
static const char *const zoho_d[] = { "zoho.com", "zohomail.com", NULL };
static const char *const zoho_mx[] = { ".zoho.com", NULL };
static const char *const zohoeu_d[] = { "zoho.eu", "zohomail.eu", NULL };
static const char *const zohoeu_mx[] = { ".zoho.eu", NULL };
static const char *const gmx_d[] = { "gmx.net", "gmx.de", "gmx.at", "gmx.ch", NULL };
static const char *const gmxcom_d[] = { "gmx.com", "gmx.us", "gmx.co.uk", NULL };
static const char *const webde_d[] = { "web.de", NULL };
static const char *const mailboxorg_d[] = { "mailbox.org", NULL };
static const char *const mailboxorg_mx[] = { ".mailbox.org", NULL };
static const char *const proton_d[] = { "proton.me", "protonmail.com", "protonmail.ch", "pm.me",
	NULL };
static const char *const none[] = { NULL };

/* clang-format off */
#define IMPLICIT(p)	{ p, TLS_IMPLICIT }
#define STARTTLS(p)	{ p, TLS_STARTTLS }
/* clang-format on */

static const struct provider table[] = {
	{ "Gmail", gmail_d, none, "smtp.gmail.com", { IMPLICIT(465), STARTTLS(587) }, OAUTH_GOOGLE,
	    1,
	    "Gmail takes an app password (with 2-Step Verification on: "
	    "https://myaccount.google.com/apppasswords), or OAuth2 with the client id of "
	    "your own Google Cloud app" },
	{ "Google Workspace", none, google_mx, "smtp.gmail.com", { IMPLICIT(465), STARTTLS(587) },
	    OAUTH_GOOGLE, 1,
	    "Google Workspace takes an app password (if the admin allows them) or OAuth2 "
	    "with the client id of your organisation's Google Cloud app" },
	{ "Outlook.com", outlook_d, none, "smtp-mail.outlook.com", { STARTTLS(587) },
	    OAUTH_MICROSOFT, 1,
	    "Outlook.com is ending password sign-in for mail programs: OAuth2 with the "
	    "client id of an app registered in Microsoft Entra is the lasting way" },
	{ "Microsoft 365", none, ms365_mx, "smtp.office365.com", { STARTTLS(587) },
	    OAUTH_MICROSOFT, 1,
	    "Microsoft 365 turns SMTP password sign-in off by default: OAuth2 with your "
	    "tenant's app registration (oauth_tenant), or ask the admin to allow SMTP AUTH "
	    "for the mailbox" },
	{ "Yahoo", yahoo_d, none, "smtp.mail.yahoo.com", { IMPLICIT(465), STARTTLS(587) },
	    OAUTH_NONE, 1,
	    "Yahoo needs an app password (Account security, Generate app password)" },
	{ "iCloud", icloud_d, none, "smtp.mail.me.com", { STARTTLS(587) }, OAUTH_NONE, 1,
	    "iCloud needs an app-specific password (https://account.apple.com, Sign-In and "
	    "Security)" },
	{ "Fastmail", fastmail_d, fastmail_mx, "smtp.fastmail.com",
	    { IMPLICIT(465), STARTTLS(587) }, OAUTH_NONE, 1,
	    "Fastmail needs an app password (Settings, Privacy & Security, Manage app "
	    "passwords)" },
	{ "Zoho Mail", zoho_d, zoho_mx, "smtp.zoho.com", { IMPLICIT(465), STARTTLS(587) },
	    OAUTH_NONE, 1,
	    "with two-factor authentication on, Zoho needs an application-specific password" },
	{ "Zoho Mail (EU)", zohoeu_d, zohoeu_mx, "smtp.zoho.eu", { IMPLICIT(465), STARTTLS(587) },
	    OAUTH_NONE, 1,
	    "with two-factor authentication on, Zoho needs an application-specific password" },
	{ "GMX", gmx_d, none, "mail.gmx.net", { IMPLICIT(465), STARTTLS(587) }, OAUTH_NONE, 1,
	    "GMX sends only once POP3/IMAP access is switched on in its web settings" },
	{ "GMX", gmxcom_d, none, "mail.gmx.com", { IMPLICIT(465), STARTTLS(587) }, OAUTH_NONE, 1,
	    "GMX sends only once POP3/IMAP access is switched on in its web settings" },
	{ "WEB.DE", webde_d, none, "smtp.web.de", { IMPLICIT(465), STARTTLS(587) }, OAUTH_NONE, 1,
	    "WEB.DE sends only once POP3/IMAP access is switched on in its web settings" },
	{ "mailbox.org", mailboxorg_d, mailboxorg_mx, "smtp.mailbox.org",
	    { IMPLICIT(465), STARTTLS(587) }, OAUTH_NONE, 1,
	    "with two-factor authentication on, mailbox.org needs an application password" },
	{ "Proton Mail Bridge", proton_d, none, "127.0.0.1", { STARTTLS(1025) }, OAUTH_NONE, 1,
	    "Proton Mail sends through Proton Mail Bridge on this machine: it must be "
	    "running; the user name and password are the ones the Bridge shows (not your "
	    "Proton password), and its certificate is its own, to be pinned" },
};

const struct provider *
provider_by_domain(const char *domain)
{
	size_t i, k;

	for (i = 0; i < sizeof(table) / sizeof(table[0]); i++)
		for (k = 0; table[i].domains[k] != NULL; k++)
			if (strcasecmp(table[i].domains[k], domain) == 0)
				return &table[i];
	return NULL;
}

const struct provider *
provider_by_mx(const char *mx)
{
	size_t i, k, n = strlen(mx), s;

	for (i = 0; i < sizeof(table) / sizeof(table[0]); i++)
		for (k = 0; table[i].mx[k] != NULL; k++) {
			s = strlen(table[i].mx[k]);
			if (n > s && strcasecmp(mx + n - s, table[i].mx[k]) == 0)
				return &table[i];
		}
	return NULL;
}

void
provider_candidates(const struct provider *p, const char *address, const char *source,
    struct candidates *l)
{
	struct candidate c;
	size_t i;

	for (i = 0; i < sizeof(p->ports) / sizeof(p->ports[0]) && p->ports[i].port != 0; i++) {
		memset(&c, 0, sizeof(c));
		c.host = (char *)p->host;
		c.port = p->ports[i].port;
		c.tls = p->ports[i].tls;
		c.oauth = p->oauth;
		c.password = p->password;
		c.user = (char *)address;
		c.source = (char *)source;
		c.note = (char *)p->note;
		candidate_add(l, &c);
	}
}
