package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
)

// Discover builds a data set from a running server (--url): the contacts
// token can see, up to limit of them, found by paging the contacts list.
// Every worker then acts with that one token. Only contacts with an email
// address and a last name are kept, since the search scenarios need both.
// email and password, when given, are used by the login scenario.
func Discover(ctx context.Context, t *Target, token, email, password string, limit int) (*Dataset, error) {
	d := &Dataset{Password: password, emails: []string{}, lastNames: []string{}}
	owner := &Owner{Email: email, Token: token}
	var buf bytes.Buffer
	cursor := ""
	for len(d.ContactIDs) < limit {
		path := "/api/v1/contacts?limit=200&sort=created_at"
		if cursor != "" {
			path += "&cursor=" + url.QueryEscape(cursor)
		}
		r, err := t.do(ctx, http.MethodGet, path, token, "", nil, &buf)
		if err != nil {
			return nil, fmt.Errorf("bench: listing contacts: %w", err)
		}
		if r.status != http.StatusOK {
			return nil, fmt.Errorf("bench: %w", checkError("listing contacts with --token", r, http.StatusOK))
		}
		var page struct {
			Items []struct {
				ID       int64  `json:"id"`
				Email    string `json:"email"`
				LastName string `json:"last_name"`
			} `json:"items"`
			NextCursor string `json:"next_cursor"`
		}
		if err := json.Unmarshal(r.body, &page); err != nil {
			return nil, fmt.Errorf("bench: listing contacts: %w", err)
		}
		for _, c := range page.Items {
			if c.Email == "" || c.LastName == "" || len(d.ContactIDs) >= limit {
				continue
			}
			owner.Seqs = append(owner.Seqs, int32(len(d.ContactIDs)))
			d.ContactIDs = append(d.ContactIDs, c.ID)
			d.emails = append(d.emails, c.Email)
			d.lastNames = append(d.lastNames, c.LastName)
		}
		if cursor = page.NextCursor; cursor == "" {
			break
		}
	}
	if len(d.ContactIDs) == 0 {
		return nil, errors.New("bench: the token sees no contact with an email address and a last name")
	}
	d.Owners = []*Owner{owner}
	d.Sizes = Sizes{Contacts: len(d.ContactIDs), Owners: 1, Teams: 1}
	return d, nil
}
