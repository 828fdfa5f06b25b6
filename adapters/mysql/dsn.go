package mysql

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"

	drv "github.com/go-sql-driver/mysql"
)

// ParseURL turns mysql://user:pass@host:3306/dbname[?params] (or
// mariadb://…) into a driver configuration. The query parameters are the
// driver's own (tls, timeout, readTimeout, …; see go-sql-driver/mysql) plus
// socket=/path for a Unix socket. The password never appears in errors.
func ParseURL(dsn string) (*drv.Config, error) {
	u, err := url.Parse(dsn)
	if err != nil {
		var ue *url.Error
		msg := "unparsable"
		if errors.As(err, &ue) {
			msg = ue.Err.Error()
		}
		return nil, fmt.Errorf("mysql: bad DSN: %s", msg)
	}
	if u.Scheme != "mysql" && u.Scheme != "mariadb" {
		return nil, fmt.Errorf("mysql: DSN scheme %q is not mysql:// or mariadb://", u.Scheme)
	}
	cfg := drv.NewConfig()
	if u.User != nil {
		cfg.User = u.User.Username()
		cfg.Passwd, _ = u.User.Password()
	}
	cfg.DBName = strings.TrimPrefix(u.Path, "/")
	if strings.Contains(cfg.DBName, "/") {
		return nil, fmt.Errorf("mysql: bad DSN: database name %q contains a slash", cfg.DBName)
	}
	q := u.Query()
	if sock := q.Get("socket"); sock != "" {
		cfg.Net, cfg.Addr = "unix", sock
		q.Del("socket")
	} else {
		host, port := u.Hostname(), u.Port()
		if host == "" {
			host = "127.0.0.1"
		}
		if port == "" {
			port = "3306"
		}
		cfg.Net, cfg.Addr = "tcp", net.JoinHostPort(host, port)
	}
	if len(q) > 0 {
		// Let the driver parse its own parameters (tls, timeout, …).
		parsed, err := drv.ParseDSN("/?" + q.Encode())
		if err != nil {
			return nil, fmt.Errorf("mysql: bad DSN parameters: %v", err)
		}
		parsed.User, parsed.Passwd, parsed.Net, parsed.Addr, parsed.DBName = cfg.User, cfg.Passwd, cfg.Net, cfg.Addr, cfg.DBName
		cfg = parsed
	}
	return cfg, nil
}
