package seal

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/custos-crm/custos/internal/crm"
	"github.com/custos-crm/custos/internal/vault"
)

// A contact's tags (ENC-2): "debtor", "vip", "divorce lawyer" say things
// about a person. They rest as one sealed value, the JSON array of them,
// which the store keeps as the only element of the contact's tags column;
// the tags table holds their blind-index tokens (tokens.go), and the
// service's in-memory index answers the tag filter of contact lists. A
// company's and a deal's tags are categories for reports and stay plain.

// packedTags returns c's sealed tags as the store keeps them, and whether
// they are in that form (rather than plain, as written before tags were
// sealed, or none). Seal packs every contact's tags, so a plain tag that
// looks sealed ("e1:…", which users may type) is only ever met in a row
// written before, and is told apart by not naming a key.
func packedTags(c *crm.Contact) (string, bool) {
	if len(c.Tags) != 1 {
		return "", false
	}
	if _, ok := vault.KeyOf(c.Tags[0]); !ok {
		return "", false
	}
	return c.Tags[0], true
}

// sealTags replaces c's plain tags by their sealed form under key.
func sealTags(key *vault.DataKey, table string, id int64, c *crm.Contact) error {
	b, err := json.Marshal(c.Tags)
	if err != nil {
		return fmt.Errorf("seal: contact %d tags: %w", id, err)
	}
	v, err := key.Seal(vault.Where{Table: table, ID: id, Field: "tags"}, string(b))
	if err != nil {
		return fmt.Errorf("seal: contact %d tags: %w", id, err)
	}
	c.Tags = []string{v}
	return nil
}

// openTags opens c's sealed tags in place. Plain tags (a row written
// before tags were sealed) are left as they are until the upgrade pass
// seals them, and refused once it has (Strict).
func (s *Sealer) openTags(ctx context.Context, tx crm.RecordTx, table string, id int64, c *crm.Contact) error {
	v, ok := packedTags(c)
	if !ok {
		if len(c.Tags) > 0 && s.strict.Load() {
			return notOpening("contact", id, "tags")
		}
		return nil
	}
	if err := s.openValue(ctx, tx, "contact", table, id, "tags", &v); err != nil {
		return err
	}
	var tags []string
	if err := json.Unmarshal([]byte(v), &tags); err != nil || tags == nil {
		return notOpening("contact", id, "tags")
	}
	c.Tags = tags
	return nil
}

// tagsColumn is the tags column as the store writes tags: a JSON array,
// [] for none (sqlstore.EncodeTags).
func tagsColumn(tags []string) string {
	if len(tags) == 0 {
		return "[]"
	}
	b, _ := json.Marshal(tags) // strings always encode
	return string(b)
}
