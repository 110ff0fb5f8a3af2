package sqlstore

import (
	"context"
	"encoding/json"

	"github.com/custos-crm/custos/internal/crm"
)

// Custom roles (ACL-1): a name, a label, the actions granted (a JSON
// array) and the field policies (a JSON object). The built-in roles are
// not stored.

const roleCols = `name, label, permissions, fields, mfa, version, created_at, updated_at`

var (
	sqlRoles      = Statement(`SELECT ` + roleCols + ` FROM roles ORDER BY name`)
	sqlRoleByName = Statement(`SELECT ` + roleCols + ` FROM roles WHERE name = ?`)
	sqlInsertRole = Statement(`INSERT INTO roles (name, label, permissions, fields, mfa, version,
		created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`)
	sqlUpdateRole = Statement(`UPDATE roles SET label = ?, permissions = ?, fields = ?, mfa = ?, version = ?,
		updated_at = ? WHERE name = ? AND version = ?`)
	sqlDeleteRole   = Statement(`DELETE FROM roles WHERE name = ?`)
	sqlRoleUsers    = Statement(`SELECT count(*) FROM users WHERE role = ?`)
	sqlRoleInvites  = Statement(`SELECT count(*) FROM one_time_tokens WHERE purpose = 'invite' AND role = ? AND used_at IS NULL AND expires_at > ?`)
	sqlActiveAdmins = Statement(`SELECT count(*) FROM users WHERE role = 'admin' AND disabled = ?`)
	sqlRoleUserIDs  = Statement(`SELECT id FROM users WHERE role = ? ORDER BY id`)
)

// scanRole scans one row of roleCols into a compiled RoleDef.
func scanRole(sc Row) (*crm.RoleDef, error) {
	var (
		d                crm.RoleDef
		perms, fields    string
		created, updated int64
	)
	if err := sc.Scan(&d.Name, &d.Label, &perms, &fields, &d.MFA, &d.Version, &created, &updated); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(perms), &d.Permissions); err != nil {
		return nil, crm.Errorf(crm.EINTERNAL, "role %s: stored permissions: %v", d.Name, err)
	}
	if err := json.Unmarshal([]byte(fields), &d.Fields); err != nil {
		return nil, crm.Errorf(crm.EINTERNAL, "role %s: stored field policies: %v", d.Name, err)
	}
	if d.Permissions == nil {
		d.Permissions = []string{}
	}
	c, u := FromMicros(created), FromMicros(updated)
	d.CreatedAt, d.UpdatedAt = &c, &u
	return d.Compile(), nil
}

// Roles returns the custom roles by name.
func (t Tx) Roles(ctx context.Context) ([]*crm.RoleDef, error) {
	rows, err := t.C.Query(ctx, sqlRoles)
	if err != nil {
		return nil, t.C.DBError(err, "roles", "role", "")
	}
	defer rows.Close()
	list := []*crm.RoleDef{}
	for rows.Next() {
		d, err := scanRole(rows)
		if err != nil {
			return nil, t.C.RowError(err, "scan role", "role")
		}
		list = append(list, d)
	}
	if err := rows.Err(); err != nil {
		return nil, t.C.RowError(err, "roles", "role")
	}
	return list, nil
}

// RoleByName returns the custom role name. ENOTFOUND if there is none.
func (t Tx) RoleByName(ctx context.Context, name crm.Role) (*crm.RoleDef, error) {
	d, err := scanRole(t.C.QueryRow(ctx, sqlRoleByName+t.C.Lock("FOR UPDATE"), string(name)))
	if err != nil {
		return nil, t.C.RowError(err, "role by name", "role")
	}
	return d, nil
}

func roleJSON(d *crm.RoleDef) (perms, fields string) {
	p, _ := json.Marshal(d.Permissions)
	f, _ := json.Marshal(d.Fields)
	if d.Permissions == nil {
		p = []byte("[]")
	}
	if d.Fields == nil {
		f = []byte("{}")
	}
	return string(p), string(f)
}

// InsertRole stores a new custom role; ECONFLICT on "name" when taken.
func (t Tx) InsertRole(ctx context.Context, d *crm.RoleDef) error {
	perms, fields := roleJSON(d)
	_, err := t.C.Insert(ctx, sqlInsertRole, string(d.Name), d.Label, perms, fields, t.C.Bool(d.MFA), d.Version,
		Micros(*d.CreatedAt), Micros(*d.UpdatedAt))
	if err != nil {
		return t.C.DBError(err, "insert role", "role", "name")
	}
	return nil
}

// UpdateRole stores d if the stored version is d.Version-1; EPRECONDITION
// otherwise.
func (t Tx) UpdateRole(ctx context.Context, d *crm.RoleDef) error {
	perms, fields := roleJSON(d)
	ok, err := t.changed(ctx, sqlUpdateRole, d.Label, perms, fields, t.C.Bool(d.MFA), d.Version,
		Micros(*d.UpdatedAt), string(d.Name), d.Version-1)
	if err != nil {
		return t.C.DBError(err, "update role", "role", "")
	} else if !ok {
		return Stale("role")
	}
	return nil
}

// DeleteRole removes the custom role name. ENOTFOUND if there is none.
func (t Tx) DeleteRole(ctx context.Context, name crm.Role) error {
	return t.updateOne(ctx, "delete role", "role", "", sqlDeleteRole, string(name))
}

// RoleHolders counts the users who hold the role and the pending
// invitations that would give it.
func (t Tx) RoleHolders(ctx context.Context, name crm.Role) (users, invites int, err error) {
	if err = t.C.QueryRow(ctx, sqlRoleUsers, string(name)).Scan(&users); err != nil {
		return 0, 0, t.C.RowError(err, "role holders", "role")
	}
	if err = t.C.QueryRow(ctx, sqlRoleInvites, string(name), Micros(t.C.Now())).Scan(&invites); err != nil {
		return 0, 0, t.C.RowError(err, "role invitations", "role")
	}
	return users, invites, nil
}

// RoleUserIDs returns the ids of the users who hold the role.
func (t Tx) RoleUserIDs(ctx context.Context, name crm.Role) ([]int64, error) {
	rows, err := t.C.Query(ctx, sqlRoleUserIDs, string(name))
	if err != nil {
		return nil, t.C.DBError(err, "role users", "user", "")
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, t.C.RowError(err, "role users", "user")
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return nil, t.C.RowError(err, "role users", "user")
	}
	return ids, nil
}

// CountActiveAdmins counts the users with the built-in admin role who are
// not disabled.
func (t Tx) CountActiveAdmins(ctx context.Context) (int, error) {
	var n int
	if err := t.C.QueryRow(ctx, sqlActiveAdmins, t.C.Bool(false)).Scan(&n); err != nil {
		return 0, t.C.RowError(err, "count admins", "user")
	}
	return n, nil
}

// LockRoles makes every other role or administrator change wait until
// this transaction ends: role changes, and changes of a user's role or
// disabled flag, take it first, so that two at once cannot remove the last
// administrator or grant a role being changed.
func (t Tx) LockRoles(ctx context.Context) error {
	if err := t.C.Serialize(ctx, "custos.roles"); err != nil {
		return t.C.DBError(err, "lock roles", "role", "")
	}
	return nil
}
