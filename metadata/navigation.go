package metadata

import (
	"fmt"
	"sort"
	"strings"
)

// NavigationOverlay renames or hides one derived navigation property. It is
// keyed by the derived name in SetOverlay.Navigation.
type NavigationOverlay struct {
	Name string
	Hide bool
}

// navEnd is one navigation property being derived, before names are final.
type navEnd struct {
	set  *EntitySet
	nav  *Navigation
	rank int // rankConfigured when the overlay names it, else rankDerived
}

// deriveNavigations adds the navigation properties of every foreign key
// between exposed sets: to-one on the referencing set, named after the
// foreign-key property without a trailing "_id"/"id" ("customer_id" →
// "customer", "CustomerID" → "Customer"), else after the constraint; to-many
// on the referenced set, named after the referencing set ("orders"), or
// after the referencing set and the to-one name when one set references
// another through several keys ("orders_bill_to"). A name that would collide
// (ignoring case) with a property or an earlier navigation of the same type
// gets a numeric suffix; foreign keys are taken in (set, constraint) order,
// so the outcome is deterministic. overlays (by set) rename or hide
// navigations by their derived name; an overlay naming no derived
// navigation is an error, as for columns.
func deriveNavigations(sets []*EntitySet, overlays map[*EntitySet]SetOverlay, objs map[*EntitySet]string) error {
	ordered := append([]*EntitySet(nil), sets...)
	sort.Slice(ordered, func(i, j int) bool { return ordered[i].Name < ordered[j].Name })

	// How many foreign keys go from one set to another: a second one
	// makes the to-many names carry the to-one name.
	pairs := map[[2]*EntitySet]int{}
	byName := map[string]*EntitySet{}
	for _, s := range sets {
		byName[s.Name] = s
	}
	for _, s := range ordered {
		for _, fk := range s.ForeignKeys {
			pairs[[2]*EntitySet{s, byName[fk.Target]}]++
		}
	}

	var ends []navEnd
	for _, s := range ordered {
		fks := append([]ForeignKey(nil), s.ForeignKeys...)
		sort.SliceStable(fks, func(i, j int) bool { return fks[i].Name < fks[j].Name })
		for _, fk := range fks {
			target := byName[fk.Target]
			if target == nil {
				continue
			}
			remote := make([]*Property, len(fk.TargetKey))
			ok := true
			for i, n := range fk.TargetKey {
				remote[i] = target.Property(n)
				if remote[i] == nil {
					ok = false
				}
			}
			if !ok {
				continue
			}
			nullable := false
			for _, p := range fk.Properties {
				if p.Nullable {
					nullable = true
				}
			}
			one := &Navigation{Name: toOneName(fk), Target: target, Nullable: nullable,
				Local: fk.Properties, Remote: remote, Constraint: fk.Name}
			manyName := s.Name
			if pairs[[2]*EntitySet{s, target}] > 1 {
				manyName = s.Name + "_" + one.Name
			}
			many := &Navigation{Name: manyName, Target: s, Many: true,
				Local: remote, Remote: fk.Properties, Constraint: fk.Name}
			ends = append(ends,
				navEnd{set: s, nav: one, rank: rankDerived},
				navEnd{set: target, nav: many, rank: rankDerived})
		}
	}

	// Overlays: rename or hide by derived name.
	used := map[*EntitySet]map[string]bool{}
	var kept []navEnd
	partnerHidden := map[*Navigation]bool{}
	for i := 0; i < len(ends); i += 2 {
		pair := ends[i : i+2]
		hidden := [2]bool{}
		for j, e := range pair {
			no, ok := overlays[e.set].Navigation[e.nav.Name]
			if !ok {
				continue
			}
			if used[e.set] == nil {
				used[e.set] = map[string]bool{}
			}
			used[e.set][e.nav.Name] = true
			if no.Hide {
				hidden[j] = true
				continue
			}
			if no.Name != "" {
				if !validNavName(no.Name) {
					return fmt.Errorf("config: navigation name %q for %s is not a valid name", no.Name, objs[e.set]+" "+e.nav.Name)
				}
				pair[j].nav.Name = no.Name
				pair[j].rank = rankConfigured
			}
		}
		for j, e := range pair {
			if hidden[j] {
				partnerHidden[pair[1-j].nav] = true
				continue
			}
			kept = append(kept, e)
		}
	}
	for s, so := range overlays {
		for name := range so.Navigation {
			if !used[s][name] {
				return fmt.Errorf("config: %s: navigation %q matches no foreign key between exposed sets (see `odatagw introspect`)", objs[s], name)
			}
		}
	}

	// Names: unique per type, ignoring case, never a property's name.
	// Configured names first, then derived ones in derivation order.
	bySet := map[*EntitySet][]int{}
	for i, e := range kept {
		bySet[e.set] = append(bySet[e.set], i)
	}
	for s, idx := range bySet {
		taken := map[string]bool{}
		for _, p := range s.Properties {
			taken[strings.ToLower(p.Name)] = true
		}
		sort.SliceStable(idx, func(a, b int) bool { return kept[idx[a]].rank < kept[idx[b]].rank })
		for _, i := range idx {
			n := kept[i].nav
			if kept[i].rank == rankConfigured && taken[strings.ToLower(n.Name)] {
				return fmt.Errorf("config: navigation name %q for %s collides with another property", n.Name, objs[s])
			}
			n.Name = uniqueName(n.Name, taken)
		}
	}
	// Partners, then attach in name order.
	for i := 0; i+1 < len(ends); i += 2 {
		a, b := ends[i].nav, ends[i+1].nav
		if !partnerHidden[a] && !partnerHidden[b] {
			a.Partner, b.Partner = b.Name, a.Name
		}
	}
	for _, e := range kept {
		e.set.Navigations = append(e.set.Navigations, e.nav)
	}
	for _, s := range sets {
		sort.Slice(s.Navigations, func(i, j int) bool { return s.Navigations[i].Name < s.Navigations[j].Name })
	}
	return nil
}

// toOneName names the to-one end of fk: its single property without a
// trailing "_id" or "id" (any case), else the constraint's name.
func toOneName(fk ForeignKey) string {
	if len(fk.Properties) == 1 {
		n := fk.Properties[0].Name
		lower := strings.ToLower(n)
		for _, suffix := range []string{"_id", "id"} {
			if strings.HasSuffix(lower, suffix) && len(n) > len(suffix) {
				if base := strings.TrimRight(n[:len(n)-len(suffix)], "_"); base != "" && validNavName(base) {
					return base
				}
			}
		}
	}
	if fk.Name != "" {
		return SanitizeName(fk.Name)
	}
	return SanitizeName("fk_" + fk.Target)
}

// validNavName: navigation properties are not Salesforce fields, so only
// the OData identifier rules apply (and our 40-character name limit).
func validNavName(s string) bool { return ValidName(s) }
