package store

import (
	"testing"
	"time"

	"gorm.io/gorm"
)

// TestWriteTxTakesTurns: on SQLite a writeTx waits for the one before it
// to end in this process (it does not start and sleep in SQLite's busy
// handler), and runs as soon as that one has ended; many at once all
// commit.
func TestWriteTxTakesTurns(t *testing.T) {
	db := openSQLite(t)
	ctx := t.Context()
	db.writes.Lock() // as if another writeTx were running
	ran := make(chan error, 1)
	go func() {
		ran <- db.writeTx(ctx, func(tx *gorm.DB) error {
			return tx.Exec("INSERT INTO agencies (id, name, created_at) VALUES ('a1', 'A', ?)", dbTime(time.Now())).Error
		})
	}()
	select {
	case err := <-ran:
		t.Fatalf("writeTx ran (%v) while another held the turn; want it to wait", err)
	case <-time.After(100 * time.Millisecond):
	}
	db.writes.Unlock()
	select {
	case err := <-ran:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("writeTx did not run after the turn was released")
	}

	const n = 40
	errs := make(chan error, n)
	for i := range n {
		go func() {
			errs <- db.writeTx(ctx, func(tx *gorm.DB) error {
				return tx.Exec("INSERT INTO agencies (id, name, created_at) VALUES (?, 'B', ?)",
					"b"+string(rune('A'+i)), dbTime(time.Now())).Error
			})
		}()
	}
	for range n {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	var count int64
	if err := db.gorm.Raw("SELECT COUNT(*) FROM agencies").Scan(&count).Error; err != nil || count != n+1 {
		t.Errorf("agencies = %d, %v; want %d", count, err, n+1)
	}
}
