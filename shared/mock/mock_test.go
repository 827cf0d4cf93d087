package mock_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/plexlogin/plexlogin/shared/loader"
	"github.com/plexlogin/plexlogin/shared/loader/loadertest"
	"github.com/plexlogin/plexlogin/shared/mock"
	"github.com/plexlogin/plexlogin/shared/source"
	"github.com/plexlogin/plexlogin/shared/sourcetest"
)

var manifest string

func TestMain(m *testing.M) {
	loadertest.Main(m, func(dir string) (err error) {
		manifest, err = loadertest.BuildMock(dir)
		return err
	})
}

// provokeLogin begins a login and completes it with the callback asking for kind k.
func provokeLogin(k source.Kind) func(context.Context, source.Full, source.Instance) error {
	return func(ctx context.Context, s source.Full, inst source.Instance) error {
		st, err := s.BeginLogin(ctx, inst, source.BeginLogin{CallbackURL: "http://127.0.0.1:1/cb"})
		if err != nil {
			return err
		}
		code := strings.SplitN(st.RedirectURL, "code=", 2)[1]
		q := map[string]string{"code": code}
		if k != source.KindUnspecified {
			q["error"] = k.String()
		}
		_, err = s.CompleteLogin(ctx, inst, source.CompleteLogin{State: st.State, CallbackQuery: q})
		return err
	}
}

func fixtures(src source.Full) sourcetest.Fixtures {
	errs := map[source.Kind]sourcetest.ErrorCase{}
	for _, k := range source.AllKinds {
		errs[k] = sourcetest.ErrorCase{Provoke: provokeLogin(k)}
	}
	errs[source.KindInvalidConfig] = sourcetest.ErrorCase{Fields: []string{"mode"},
		Provoke: func(ctx context.Context, s source.Full, inst source.Instance) error {
			inst.Config = []byte(`{"api_key":"k","mode":"sometimes"}`)
			_, err := s.ValidateConfig(ctx, inst)
			return err
		}}
	errs[source.KindAccessDenied] = sourcetest.ErrorCase{Subject: true, Provoke: func(ctx context.Context, s source.Full, inst source.Instance) error {
		inst.Config = []byte(`{"api_key":"k","mode":"closed"}`)
		st, err := s.BeginLogin(ctx, inst, source.BeginLogin{CallbackURL: "http://127.0.0.1:1/cb"})
		if err != nil {
			return err
		}
		code := strings.SplitN(st.RedirectURL, "code=", 2)[1]
		_, err = s.CompleteLogin(ctx, inst, source.CompleteLogin{State: st.State, CallbackQuery: map[string]string{"code": code, "user": "bob"}})
		return err
	}}
	errs[source.KindInvalidCredentials] = sourcetest.ErrorCase{Provoke: func(ctx context.Context, s source.Full, inst source.Instance) error {
		_, err := s.PasswordLogin(ctx, inst, source.Credentials{Login: "a", Password: "wrong"})
		return err
	}}
	withLease := func(inst source.Instance, lease string) source.Instance {
		var m map[string]any
		_ = json.Unmarshal(inst.Config, &m)
		m["lease"] = lease
		inst.Config, _ = json.Marshal(m)
		return inst
	}
	return sourcetest.Fixtures{
		Renewing: func(_ context.Context, _ source.Full, inst source.Instance) (source.Instance, error) {
			return withLease(inst, mock.Lease(time.Now().Add(time.Minute))), nil
		},
		ExpiredCredentials: func(ctx context.Context, s source.Full, inst source.Instance) error {
			return provokeLogin(0)(ctx, s, withLease(inst, mock.Lease(time.Now().Add(-time.Minute))))
		},
		Source:      src,
		ValidConfig: `{"api_key":"k","greeting":"Hi"}`,
		BadConfigs: []sourcetest.BadConfig{
			{Name: "missing secret", Config: `{"greeting":"Hi"}`, Fields: []string{"api_key"}},
			{Name: "bad enum", Config: `{"api_key":"k","mode":"sometimes"}`, Fields: []string{"mode"}},
			{Name: "two bad fields", Config: `{"mode":"x","greeting":"` + strings.Repeat("a", 101) + `"}`, Fields: []string{"api_key", "mode", "greeting"}},
		},
		Errors: errs,
	}
}

func TestConformanceOverPluginProcess(t *testing.T) {
	p, err := loader.Load(manifest, loader.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	sourcetest.Run(t, fixtures(p))
}

func TestMigratesVersion1(t *testing.T) {
	out, err := mock.New().ValidateConfig(context.Background(), source.Instance{Config: []byte(`{"schema_version":1,"salutation":"Yo","api_key":"k"}`)})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(out), `"greeting":"Yo"`) || !strings.Contains(string(out), `"schema_version":2`) {
		t.Fatalf("not migrated: %s", out)
	}
}
