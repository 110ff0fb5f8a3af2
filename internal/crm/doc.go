// Package crm is the domain of Custos: the entities a team works with
// (contacts, companies, deals, activities, tasks), the Principal that acts on
// them, the Error type with its codes, and the interfaces of the services and
// stores that the rest of the program implements.
//
// It imports only the standard library. The service package implements the
// services over the Store interface; the sqlite and postgres packages
// implement the Store (the embedded store and PostgreSQL); the web package
// speaks HTTP to the services. None of those import each other, and only cmd/custos wires them.
//
// Every service method takes a context and the acting Principal first, so that
// no code path can read or write client data without saying who is acting.
package crm
