// Package mail sends the few messages Custos writes to people: invitations,
// password-reset links, "your password was changed" notices and email-change
// confirmations.
//
// A Mailer sends one plain-text Message. SMTP delivers over SMTP with
// go-mail: STARTTLS is mandatory by default, implicit TLS (port 465) is the
// alternative, and an unencrypted connection only happens when the operator
// explicitly configures "none". LogMailer is what runs when no SMTP server
// is configured: it logs that a message was not sent, with its kind and
// recipient but never its body, because bodies hold one-time links that
// are as good as a password for their lifetime.
//
// Messages are rendered from text/template files in templates/, one per
// kind and language (English and Russian), so that a user reads their mail
// in the language of their account.
package mail
