package localpath

import "testing"

func TestParse(t *testing.T) {
	for raw, want := range map[string]bool{
		"/web/index.html#!/media": true, "/profile?x=1": true, "/..//evil.example": true,
		"": false, "web": false, "//evil.example": false, "/\\evil.example": false, "\\/evil": false,
		"https://evil.example/": false, "javascript:alert(1)": false, "/a\tb": false, "/a\nb": false, " /a": false,
		"/" + string(make([]byte, 50)): false,
	} {
		if _, ok := Parse(raw, 40); ok != want {
			t.Errorf("Parse(%q) = %v, want %v", raw, ok, want)
		}
	}
}
