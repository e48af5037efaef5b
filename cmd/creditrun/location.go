package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/creditrun/creditrun/policy"
	"github.com/creditrun/creditrun/storage"
)

// splitURL splits the URL of an object into the location of its prefix
// (with the URL's query, which configures the store) and its name there.
func splitURL(u string) (dir, name string) {
	loc, query, _ := strings.Cut(u, "?")
	scheme, rest, _ := strings.Cut(loc, "://")
	i := strings.LastIndex(rest, "/")
	if i < 0 {
		return u, "" // a bucket, not an object
	}
	dir, name = scheme+"://"+rest[:i], rest[i+1:]
	if query != "" {
		dir += "?" + query
	}
	return dir, name
}

// loadRemotePolicy reads the policy file at the URL u.
func loadRemotePolicy(ctx context.Context, u string) (*policy.Policy, error) {
	dir, name := splitURL(u)
	if name == "" {
		return nil, fmt.Errorf("read policy: %s names a bucket, not a file", u)
	}
	root, err := storage.Open(ctx, dir)
	if err != nil {
		return nil, fmt.Errorf("read policy: %w", err)
	}
	defer root.Close()
	st, err := root.Stat(ctx, name)
	if err != nil {
		return nil, fmt.Errorf("read policy: %w", err)
	}
	if st.IsDir {
		return nil, fmt.Errorf("read policy: %s: %w", root.URL(name), storage.ErrIsDir)
	}
	r, err := root.Reader(ctx, name)
	if err != nil {
		return nil, fmt.Errorf("read policy: %w", err)
	}
	defer r.Close()
	return policy.Read(u, r, st.Size)
}
