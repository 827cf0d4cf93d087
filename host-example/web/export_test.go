package web

import "encoding/json"

// AttributeRows is attributeRows, for the tests of package web_test.
func AttributeRows(raw json.RawMessage) []AttributeRow { return attributeRows(raw) }
