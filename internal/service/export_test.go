package service

import "time"

// ContactIndexSynced returns when the contact index's last completed read
// of the change sequence began: a test waits for the background follower
// with it instead of sleeping.
func (s *Service) ContactIndexSynced() time.Time {
	s.contacts.mu.Lock()
	defer s.contacts.mu.Unlock()
	return s.contacts.synced
}

// SetScanBudget sets the activities a page of a search reads, for the
// test's life.
func SetScanBudget(t interface{ Cleanup(func()) }, n int) {
	old := scanBudget
	scanBudget = n
	t.Cleanup(func() { scanBudget = old })
}
