package plextv

import (
	"encoding/json"
	"testing"
)

// FuzzDecodeJSON: no JSON answer of plex.tv may panic a decoder, and every decoded
// user document comes out without secrets.
func FuzzDecodeJSON(f *testing.F) {
	f.Add([]byte(`{"id": 1, "uuid": "a", "username": null, "authToken": "x", "services": [{"token": "y"}], "confirmed": "1"}`))
	f.Add([]byte(`{"user": {"id": "7", "authentication_token": "z"}}`))
	f.Add([]byte(`[{"name": "S", "provides": "server,player", "owned": "1", "ownerId": null, "clientIdentifier": 5}]`))
	f.Add([]byte(`{"id": 9, "code": "abc", "authToken": null, "expiresIn": "900"}`))
	f.Add([]byte(`{"errors":[{"code":1020,"message":"Code not found or expired","status":404}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		if u, err := DecodeUser(data); err == nil {
			b, _ := json.Marshal(u.Raw)
			var back map[string]any
			_ = json.Unmarshal(b, &back)
			if hasSecret(back) {
				t.Fatalf("secret survived: %s", b)
			}
		}
		_, _ = DecodeResources(data)
		_, _ = DecodePIN(data)
		_, _ = DecodeFriends(data)
		_ = decodeError(data)
	})
}

func hasSecret(v any) bool {
	switch t := v.(type) {
	case map[string]any:
		for k, x := range t {
			if IsSecretName(k) || hasSecret(x) {
				return true
			}
		}
	case []any:
		for _, x := range t {
			if hasSecret(x) {
				return true
			}
		}
	}
	return false
}

// FuzzDecodeXML: no XML answer of plex.tv may panic a decoder.
func FuzzDecodeXML(f *testing.F) {
	f.Add([]byte(`<MediaContainer><User id="1" username="" email=""><Server machineIdentifier="ab" pending="1" owned="true"/></User></MediaContainer>`))
	f.Add([]byte(`<MediaContainer size="1"><User id="2" uuid="u" admin="1" restricted="0" protected="1" title="O"/></MediaContainer>`))
	f.Add([]byte(`<MediaContainer><SharedServer id="1" userID="3" accessToken="x"><Section key="1"/></SharedServer></MediaContainer>`))
	f.Add([]byte(`<errors> <error>Invalid token</error> </errors>`))
	f.Add([]byte(`<Response code="410" status="This endpoint was deprecated and removed"/>`))
	f.Add([]byte(`<pin id="99" code="obf51911w2nycssh2ob8q8q4" />`))
	f.Fuzz(func(t *testing.T, data []byte) {
		_, _ = DecodeSharedUsers(data)
		_, _ = DecodeHomeUsers(data)
		_, _ = DecodeSharedServers(data)
		_, _ = DecodePIN(data)
		_ = decodeError(data)
	})
}
