package did

import (
	"encoding/json"
	"slices"
)

// Clone returns a deep copy of d (nil for nil).
func (d *Document) Clone() *Document {
	if d == nil {
		return nil
	}
	c := *d
	c.Context = cloneAnySlice(d.Context)
	c.Controller = slices.Clone(d.Controller)
	c.AlsoKnownAs = slices.Clone(d.AlsoKnownAs)
	if d.VerificationMethod != nil {
		c.VerificationMethod = make([]VerificationMethod, len(d.VerificationMethod))
		for i, vm := range d.VerificationMethod {
			c.VerificationMethod[i] = vm.clone()
		}
	}
	c.Authentication = cloneRefs(d.Authentication)
	c.AssertionMethod = cloneRefs(d.AssertionMethod)
	c.KeyAgreement = cloneRefs(d.KeyAgreement)
	c.CapabilityInvocation = cloneRefs(d.CapabilityInvocation)
	c.CapabilityDelegation = cloneRefs(d.CapabilityDelegation)
	if d.Service != nil {
		c.Service = make([]Service, len(d.Service))
		for i, s := range d.Service {
			c.Service[i] = Service{ID: s.ID, Type: slices.Clone(s.Type), Endpoint: cloneAny(s.Endpoint)}
		}
	}
	return &c
}

func (vm VerificationMethod) clone() VerificationMethod {
	vm.PublicKeyJWK = slices.Clone(vm.PublicKeyJWK)
	return vm
}

func cloneRefs(refs []MethodRef) []MethodRef {
	if refs == nil {
		return nil
	}
	out := make([]MethodRef, len(refs))
	for i, r := range refs {
		out[i] = MethodRef{Ref: r.Ref}
		if r.Embedded != nil {
			vm := r.Embedded.clone()
			out[i].Embedded = &vm
		}
	}
	return out
}

func cloneAnySlice(s []any) []any {
	if s == nil {
		return nil
	}
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = cloneAny(v)
	}
	return out
}

// cloneAny deep-copies a value decoded from JSON.
func cloneAny(v any) any {
	switch x := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[k] = cloneAny(e)
		}
		return m
	case []any:
		return cloneAnySlice(x)
	case json.RawMessage:
		return slices.Clone(x)
	}
	return v
}
