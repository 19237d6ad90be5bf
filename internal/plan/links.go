package plan

import (
	"fmt"

	"gorm.io/gorm"

	"github.com/ferry-migrate/ferry/internal/apperr"
)

// sourceUserType and applicationUserType link a record to the user types it
// concerns; both link tables have the same shape.
type sourceUserType struct {
	SourceID   int64 `gorm:"primaryKey"`
	UserTypeID int64 `gorm:"primaryKey"`
}

func (sourceUserType) TableName() string { return "source_user_types" }

type applicationUserType struct {
	ApplicationID int64 `gorm:"primaryKey"`
	UserTypeID    int64 `gorm:"primaryKey"`
}

func (applicationUserType) TableName() string { return "application_user_types" }

// userTypeLinks reads and replaces the user types linked to records of one kind.
type userTypeLinks struct {
	table     string // link table
	ownerCol  string // column holding the record's id
	makeModel func(ownerID, userTypeID int64) any
}

func sourceLinks() userTypeLinks {
	return userTypeLinks{"source_user_types", "source_id", func(o, u int64) any { return &sourceUserType{o, u} }}
}

func applicationLinks() userTypeLinks {
	return userTypeLinks{"application_user_types", "application_id", func(o, u int64) any { return &applicationUserType{o, u} }}
}

// replace sets ownerID's links to exactly userTypeIDs.
func (l userTypeLinks) replace(tx *gorm.DB, ownerID int64, userTypeIDs []int64) error {
	if err := tx.Exec(fmt.Sprintf("DELETE FROM %s WHERE %s = ?", l.table, l.ownerCol), ownerID).Error; err != nil {
		return err
	}
	for _, id := range userTypeIDs {
		if err := tx.Create(l.makeModel(ownerID, id)).Error; err != nil {
			return err
		}
	}
	return nil
}

// load returns, for each owner id, its linked user type ids in id order.
func (l userTypeLinks) load(q *gorm.DB, ownerIDs []int64) (map[int64][]int64, error) {
	out := map[int64][]int64{}
	if len(ownerIDs) == 0 {
		return out, nil
	}
	var rows []struct {
		OwnerID    int64
		UserTypeID int64
	}
	err := q.Table(l.table).Select(l.ownerCol+" AS owner_id, user_type_id").
		Where(l.ownerCol+" IN ?", ownerIDs).Order("user_type_id").Scan(&rows).Error
	if err != nil {
		return nil, err
	}
	for _, r := range rows {
		out[r.OwnerID] = append(out[r.OwnerID], r.UserTypeID)
	}
	return out, nil
}

// withUserTypes is a record that links to user types (sources, applications).
type withUserTypes[T any] interface {
	*T
	recordID() int64
	setUserTypeIDs(ids []int64)
}

func (s *Source) recordID() int64                 { return s.ID }
func (s *Source) setUserTypeIDs(ids []int64)      { s.UserTypeIDs = ids }
func (a *Application) recordID() int64            { return a.ID }
func (a *Application) setUserTypeIDs(ids []int64) { a.UserTypeIDs = ids }

// findWithUserTypes loads the records matching where, by name, each with its
// linked user type ids (always a list, never null in JSON).
func findWithUserTypes[T any, PT withUserTypes[T]](q *gorm.DB, links userTypeLinks, where string, args ...any) ([]T, error) {
	var out []T
	if err := q.Where(where, args...).Order("name_key").Find(&out).Error; err != nil {
		return nil, apperr.Internal(err)
	}
	ids := make([]int64, len(out))
	for i := range out {
		ids[i] = PT(&out[i]).recordID()
	}
	linked, err := links.load(q, ids)
	if err != nil {
		return nil, apperr.Internal(err)
	}
	for i := range out {
		userTypes := linked[ids[i]]
		if userTypes == nil {
			userTypes = []int64{}
		}
		PT(&out[i]).setUserTypeIDs(userTypes)
	}
	return out, nil
}
