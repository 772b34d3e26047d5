package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/urbis-id/urbis/internal/agency"
	"github.com/urbis-id/urbis/internal/store"
	"github.com/urbis-id/urbis/kms"
)

// app is what the commands share: the database and the domain services.
type app struct {
	db       *store.DB
	keys     *kms.Custodian
	agencies *agency.Service
}

// openApp opens the database, applies pending migrations and loads (or on
// first start creates) the master key, logging what it created and where.
func (p *program) openApp(ctx context.Context, cfg *config, log *slog.Logger) (*app, error) {
	isPostgres := strings.HasPrefix(cfg.DatabaseURL, "postgres://") || strings.HasPrefix(cfg.DatabaseURL, "postgresql://")
	if !isPostgres {
		if err := os.MkdirAll(filepath.Dir(cfg.DatabaseURL), 0o700); err != nil {
			return nil, fmt.Errorf("create data directory: %w", err)
		}
		if _, err := os.Stat(cfg.DatabaseURL); os.IsNotExist(err) {
			log.Info("creating SQLite database", "path", cfg.DatabaseURL)
		}
	}
	db, err := store.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	applied, err := db.MigrateUp(ctx)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("apply migrations: %w", err)
	}
	if len(applied) > 0 {
		log.Info("applied migrations", "dialect", db.Dialect(), "migrations", applied)
	}
	master, err := p.masterKey(cfg, log)
	if err != nil {
		db.Close()
		return nil, err
	}
	keys := kms.NewCustodian(db, master, time.Now)
	return &app{db: db, keys: keys, agencies: agency.NewService(db, keys, time.Now)}, nil
}

// openConfigured loads the command's configuration and opens the app.
func (p *program) openConfigured(cmd *cobra.Command, cfg *config) (*app, error) {
	if err := p.loadConfig(cmd, cfg, false); err != nil {
		return nil, err
	}
	return p.openApp(cmd.Context(), cfg, p.logger(cfg))
}

func (p *program) masterKey(cfg *config, log *slog.Logger) (*kms.MasterKey, error) {
	if v := p.getenv("URBIS_MASTER_KEY"); v != "" {
		k, err := kms.ParseMasterKey(v)
		if err != nil {
			return nil, fmt.Errorf("URBIS_MASTER_KEY: %w", err)
		}
		return k, nil
	}
	k, created, err := kms.LoadOrCreateMasterKey(cfg.MasterKeyFile)
	if err != nil {
		return nil, fmt.Errorf("master key: %w", err)
	}
	if created {
		log.Info("created master key; back it up: without it the keys in custody cannot be used", "path", cfg.MasterKeyFile, "mode", "0600")
	}
	return k, nil
}

func (a *app) Close() error { return a.db.Close() }
