// Package verifiers will hold verification policies: presentation
// requests, per-type rules and the OpenID4VP relying party. It is empty
// until the credentials and wallet work (issues 4 and 5) lands; the
// directory exists so the layout and the layering test cover it.
package verifiers
