"""Writes for volunteers, one module per concern: teams (who may act, teams, members, partner
organisations) and activities (activities, sign-ups, attendance, completion and its hours
claims). They are the only code that saves a Team, Membership, Activity, Signup or Attendance
(the admin's plain forms aside, which call them for anything with a rule).

Import the module of the concern (`from volunteers.services import teams`); nothing is
re-exported here, so each write has one address.
"""
