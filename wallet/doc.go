// Package wallet will hold the holder side: key store, credential store,
// presentations, and the OpenID4VCI and OpenID4VP clients. It is empty
// until the wallet work (issue 5) lands; the directory exists so the
// layout and the layering test cover it from the start.
package wallet
