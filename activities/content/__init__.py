"""What the engine's messages say: templates per kind (plain text and HTML) in the reader's language
(Babel's gettext catalogue under locale/), and the calendar invitations that carry an audit's date."""
