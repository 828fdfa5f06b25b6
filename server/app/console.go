package app

import (
	"context"
	"fmt"
	"strings"

	"github.com/odatagw/odatagw/adapters"
	"github.com/odatagw/odatagw/internal/sfbundle"
	"github.com/odatagw/odatagw/metadata"
	"github.com/odatagw/odatagw/server/console"
)

// consoleOptions are what the web console shows of this gateway: the
// configuration's authentication and public URL, the introspection
// warnings and the change-tracking state through the adapter (the console
// knows no adapter). The server fills in the rest.
func (g *Gateway) consoleOptions() *console.Options {
	c := g.Config
	o := &console.Options{
		PublicURL: c.PublicURL, AuthModes: authModes(c), BundleAuth: bundleAuth(c), CSRF: c.CSRF.Enabled,
		Version: Version,
		Warnings: func() []metadata.Warning {
			if w := g.warnings.Load(); w != nil {
				return *w
			}
			return nil
		},
		Configured: func(set string) bool {
			for _, s := range c.trackedSets(g.Server.Model()) {
				if s.Name == set {
					return true
				}
			}
			return false
		},
	}
	admin, isAdmin := g.Adapter.(adapters.TrackAdmin)
	ct, isTracker := g.Adapter.(adapters.ChangeTracker)
	if isAdmin || isTracker {
		o.Tracking = func(ctx context.Context) ([]console.TrackState, error) {
			sets := c.trackedSets(g.Server.Model())
			if len(sets) == 0 {
				return nil, nil
			}
			var out []console.TrackState
			if isAdmin { // `odatagw track status`: installed, entries, oldest
				st, err := admin.TrackingStatus(ctx, sets)
				for _, s := range st {
					out = append(out, console.TrackState{Set: s.Set, Installed: s.Installed, Entries: s.Entries, Oldest: s.Oldest})
				}
				return out, err
			}
			installed, err := ct.TrackedSets(ctx, sets)
			for _, s := range sets {
				out = append(out, console.TrackState{Set: s.Name, Installed: installed[s.Name], Entries: -1})
			}
			return out, err
		}
	}
	return o
}

// authModes describes the configured authentication for the console.
func authModes(c Config) []string {
	a := c.Auth
	var out []string
	if n := len(a.Basic); n > 0 {
		out = append(out, fmt.Sprintf("HTTP Basic: %d %s", n, plural(n, "user", "users")))
	}
	if n := len(a.APIKeys); n > 0 {
		h := a.APIKeyHeader
		if h == "" {
			h = "X-API-Key"
		}
		out = append(out, fmt.Sprintf("API keys in header %s: %d %s", h, n, plural(n, "key", "keys")))
	}
	if a.Enabled() && (len(a.JWT.HMACSecrets) > 0 || len(a.JWT.PublicKeys) > 0 || a.JWT.JWKSURL != "") {
		var parts []string
		if a.JWT.JWKSURL != "" {
			parts = append(parts, "keys from "+a.JWT.JWKSURL)
		}
		if n := len(a.JWT.PublicKeys) + len(a.JWT.HMACSecrets); n > 0 {
			parts = append(parts, fmt.Sprintf("%d configured %s", n, plural(n, "key", "keys")))
		}
		if a.JWT.Issuer != "" {
			parts = append(parts, "issuer "+a.JWT.Issuer)
		}
		if len(a.JWT.Audience) > 0 {
			parts = append(parts, "audience "+strings.Join(a.JWT.Audience, ", "))
		}
		out = append(out, "Bearer JWT: "+strings.Join(parts, "; "))
	}
	return out
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// bundleAuth is the Salesforce External Credential protocol that fits the
// gateway's authentication (the bundle form's default).
func bundleAuth(c Config) string {
	a := c.Auth
	switch {
	case len(a.Basic) > 0:
		return sfbundle.AuthBasic
	case len(a.JWT.HMACSecrets) > 0 || len(a.JWT.PublicKeys) > 0 || a.JWT.JWKSURL != "":
		return sfbundle.AuthClientCredentials
	case len(a.APIKeys) > 0:
		return sfbundle.AuthAPIKey
	}
	return sfbundle.AuthAnonymous
}
