// Package vc will hold the credential and presentation model, proof
// formats, status lists, schemas and trust checks. It is empty until the
// credentials work (issue 4) lands; the directory exists so the layout and
// the layering test cover it from the start.
package vc
