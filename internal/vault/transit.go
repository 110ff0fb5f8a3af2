package vault

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Transit is a KEK held by HashiCorp Vault's transit secrets engine: the
// key never leaves Vault, which wraps and unwraps data keys through its
// documented HTTP API (POST /v1/<mount>/encrypt/<key>, decrypt/<key>,
// keys/<key>/rotate; GET /v1/<mount>/keys/<key>), with the subject as
// associated data of its AES-256-GCM key.
type Transit struct {
	addr   string // https://vault.example:8200
	mount  string // transit
	key    string
	token  string
	client *http.Client
}

var _ KEK = (*Transit)(nil)

// NewTransit returns the transit key name under mount of the Vault at
// addr, authenticated by token; client nil is http.DefaultClient.
func NewTransit(addr, mount, key, token string, client *http.Client) (*Transit, error) {
	u, err := url.Parse(addr)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("vault: %q is not a Vault address (https://host:8200)", addr)
	}
	// The token and every data key cross this connection: plain HTTP only
	// to the same machine.
	if u.Scheme == "http" {
		ip := net.ParseIP(u.Hostname())
		if u.Hostname() != "localhost" && (ip == nil || !ip.IsLoopback()) {
			return nil, fmt.Errorf("vault: %s: Vault must be reached over https (plain http only on loopback)", addr)
		}
	}
	if key == "" || token == "" {
		return nil, fmt.Errorf("vault: a transit key needs its name and a token")
	}
	if mount == "" {
		mount = "transit"
	}
	if client == nil {
		client = &http.Client{}
	}
	// A redirect would carry the token to wherever it points: none is
	// followed.
	c := *client
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	client = &c
	return &Transit{addr: strings.TrimRight(addr, "/"), mount: strings.Trim(mount, "/"), key: key, token: token, client: client}, nil
}

// transitRefusal is a response of Vault other than 2xx.
type transitRefusal struct {
	status int
	msg    string
}

func (e *transitRefusal) Error() string { return e.msg }

// Describe implements KEK.
func (t *Transit) Describe() string {
	return "Vault transit key " + t.key + " at " + t.addr + "/v1/" + t.mount
}

// call makes one request of the transit API and decodes its data.
func (t *Transit) call(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, t.addr+"/v1/"+t.mount+"/"+path, body)
	if err != nil {
		return err
	}
	req.Header.Set("X-Vault-Token", t.token)
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := t.client.Do(req)
	if err != nil {
		return fmt.Errorf("vault: transit %s: %w", path, err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	if err != nil {
		return fmt.Errorf("vault: transit %s: %w", path, err)
	}
	if res.StatusCode/100 != 2 {
		var e struct{ Errors []string }
		_ = json.Unmarshal(raw, &e)
		return &transitRefusal{status: res.StatusCode, msg: fmt.Sprintf("vault: transit %s: %s %s", path, res.Status, strings.Join(e.Errors, "; "))}
	}
	if out == nil {
		return nil
	}
	env := struct {
		Data json.RawMessage `json:"data"`
	}{}
	if err := json.Unmarshal(raw, &env); err != nil || len(env.Data) == 0 {
		return fmt.Errorf("vault: transit %s: a response without data", path)
	}
	return json.Unmarshal(env.Data, out)
}

// Wrap implements KEK.
func (t *Transit) Wrap(ctx context.Context, dek, aad []byte) ([]byte, int, error) {
	var out struct {
		Ciphertext string `json:"ciphertext"`
	}
	err := t.call(ctx, http.MethodPost, "encrypt/"+url.PathEscape(t.key), map[string]string{
		"plaintext": base64.StdEncoding.EncodeToString(dek), "associated_data": base64.StdEncoding.EncodeToString(aad)}, &out)
	if err != nil {
		return nil, 0, err
	}
	v, err := transitVersion(out.Ciphertext)
	if err != nil {
		return nil, 0, err
	}
	return []byte(out.Ciphertext), v, nil
}

// transitVersion is the key version a transit ciphertext names
// ("vault:v2:…").
func transitVersion(ct string) (int, error) {
	rest, ok := strings.CutPrefix(ct, "vault:v")
	if !ok {
		return 0, fmt.Errorf("vault: transit returned a ciphertext of an unknown form")
	}
	n, _, _ := strings.Cut(rest, ":")
	v, err := strconv.Atoi(n)
	if err != nil || v <= 0 {
		return 0, fmt.Errorf("vault: transit returned a ciphertext of an unknown form")
	}
	return v, nil
}

// Unwrap implements KEK. The version is in the ciphertext itself.
func (t *Transit) Unwrap(ctx context.Context, wrapped []byte, version int, aad []byte) ([]byte, error) {
	if v, err := transitVersion(string(wrapped)); err != nil || v != version {
		return nil, ErrIntegrity
	}
	var out struct {
		Plaintext string `json:"plaintext"`
	}
	err := t.call(ctx, http.MethodPost, "decrypt/"+url.PathEscape(t.key), map[string]string{
		"ciphertext": string(wrapped), "associated_data": base64.StdEncoding.EncodeToString(aad)}, &out)
	var refused *transitRefusal
	if errors.As(err, &refused) && refused.status == http.StatusBadRequest {
		// Vault's answer to a ciphertext that does not open under the
		// key and associated data: tampering, not an outage.
		return nil, fmt.Errorf("%w: %v", ErrIntegrity, err)
	} else if err != nil {
		return nil, err
	}
	dek, err := base64.StdEncoding.DecodeString(out.Plaintext)
	if err != nil {
		return nil, ErrIntegrity
	}
	return dek, nil
}

// Rotate implements KEK.
func (t *Transit) Rotate(ctx context.Context) (int, error) {
	if err := t.call(ctx, http.MethodPost, "keys/"+url.PathEscape(t.key)+"/rotate", struct{}{}, nil); err != nil {
		return 0, err
	}
	vs, err := t.Versions(ctx)
	if err != nil {
		return 0, err
	}
	return vs[len(vs)-1].N, nil
}

// Versions implements KEK, from the key's description: its versions with
// their creation times (unix seconds or RFC 3339, as Vault writes them).
func (t *Transit) Versions(ctx context.Context) ([]Version, error) {
	var out struct {
		LatestVersion int                        `json:"latest_version"`
		Keys          map[string]json.RawMessage `json:"keys"`
	}
	if err := t.call(ctx, http.MethodGet, "keys/"+url.PathEscape(t.key), nil, &out); err != nil {
		return nil, err
	}
	var vs []Version
	for k, raw := range out.Keys {
		n, err := strconv.Atoi(k)
		if err != nil {
			continue
		}
		v := Version{N: n, Current: n == out.LatestVersion}
		var unix int64
		var stamp string
		if json.Unmarshal(raw, &unix) == nil {
			v.Created = time.Unix(unix, 0).UTC()
		} else if json.Unmarshal(raw, &stamp) == nil {
			v.Created, _ = time.Parse(time.RFC3339, stamp)
		}
		vs = append(vs, v)
	}
	if len(vs) == 0 {
		return nil, fmt.Errorf("vault: transit key %s has no versions", t.key)
	}
	sort.Slice(vs, func(i, j int) bool { return vs[i].N < vs[j].N })
	return vs, nil
}
