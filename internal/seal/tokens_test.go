package seal_test

import (
	"context"
	"testing"

	"github.com/custos-crm/custos/internal/crm"
	"github.com/custos-crm/custos/internal/identity"
	"github.com/custos-crm/custos/internal/seal"
	"github.com/custos-crm/custos/internal/service"
	"github.com/custos-crm/custos/internal/testkit"
	"github.com/custos-crm/custos/internal/vault"
)

// testKEK is the seal tests' key-encryption key (a fixed test key).
func testKEK(tb testing.TB) vault.KEK {
	tb.Helper()
	kek, err := vault.ParseKEK("test", "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=")
	if err != nil {
		tb.Fatal(err)
	}
	return kek
}

// raceTx makes the blind-index key look absent at its first read, as it is
// to an instance whose first write races another's: its insert of a new
// key then conflicts with the stored one.
type raceTx struct {
	crm.Tx
	hidden bool
}

func (t *raceTx) DataKeyOf(ctx context.Context, subject string) (*crm.DataKey, error) {
	if subject == seal.BlindIndexSubject && !t.hidden {
		t.hidden = true
		return nil, crm.NotFound("data key")
	}
	return t.Tx.DataKeyOf(ctx, subject)
}

// TestTokensOfARacingInstance (ENC-4): an instance that finds no
// blind-index key and loses the race to make one uses the stored key, so
// that equal emails and phones get equal tokens on every instance.
func TestTokensOfARacingInstance(t *testing.T) {
	ctx := context.Background()
	kek := testKEK(t)
	f := testkit.NewFixture(t, service.Options{Hooks: service.WithSealing(service.NoHooks{}, seal.New(kek, 64, 64))}, identity.Options{})
	first, err := f.Records.CreateContact(ctx, f.As("alice"), crm.ContactInput{LastName: ptr("First"), Email: ptr("same@example.com"), Phone: ptr("+74951234567")})
	if err != nil {
		t.Fatal(err)
	}
	var stored *crm.Contact
	err = f.Store.Read(ctx, func(tx crm.Tx) (err error) {
		stored, err = tx.ContactByID(ctx, crm.Scope{All: true}, first.ID, false)
		return err
	})
	if err != nil || stored.EmailToken == "" || stored.PhoneToken == "" {
		t.Fatalf("the first contact's tokens: %+v %v", stored, err)
	}
	other := seal.New(kek, 64, 64) // another instance: nothing cached
	c := &crm.Contact{LastName: "Second", Email: "same@example.com", Phone: "+74951234567", OwnerID: first.OwnerID}
	err = f.Store.Write(ctx, func(tx crm.Tx) error { return other.Seal(ctx, &raceTx{Tx: tx}, "contact", c) })
	if err != nil {
		t.Fatalf("sealing after losing the race for the key: %v", err)
	}
	if c.EmailToken != stored.EmailToken || c.PhoneToken != stored.PhoneToken {
		t.Errorf("tokens of equal values differ between instances: %q %q, want %q %q", c.EmailToken, c.PhoneToken, stored.EmailToken, stored.PhoneToken)
	}
}

func ptr[T any](v T) *T { return &v }
