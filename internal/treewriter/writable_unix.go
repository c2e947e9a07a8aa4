//go:build unix

package treewriter

import "syscall"

// writable reports whether this process may create and rename entries in dir (access(2) with
// W_OK|X_OK), so a permission problem is found before any file moves.
func writable(dir string) error {
	const wOK, xOK = 0x2, 0x1
	return syscall.Access(dir, wOK|xOK)
}
