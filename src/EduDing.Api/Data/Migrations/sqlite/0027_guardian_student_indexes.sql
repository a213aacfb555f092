-- guardian_students is keyed by class for the roster writes, but the mini-app asks it by child (is the caller this
-- child's guardian? who are this child's guardians?) and by guardian (whose guardian is the caller?): without these
-- each such question read every relation of the school (about 2,000 rows a question on MariaDB at a signup opening).
CREATE INDEX ix_guardian_students_student ON guardian_students (corp_id, student_user_id, guardian_user_id);
CREATE INDEX ix_guardian_students_guardian ON guardian_students (corp_id, guardian_user_id);
