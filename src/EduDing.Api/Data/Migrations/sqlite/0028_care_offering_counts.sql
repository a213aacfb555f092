-- An elective's live places (held, enrolled, offered) and its waitlist's length, kept on its row, which every change of
-- its places takes first: a submission decides and reads its position in line from them instead of counting the places
-- under the offering's lock (at a signup opening those counts were the costliest statements of a submission; see
-- docs/after-school.md "Signup at scale"). Basic care groups are not counted here: their rows are not taken by a
-- submission, so that applications to them do not queue.
ALTER TABLE care_offerings ADD COLUMN places_taken INT NOT NULL DEFAULT 0;
ALTER TABLE care_offerings ADD COLUMN waitlisted INT NOT NULL DEFAULT 0;
UPDATE care_offerings
SET places_taken = (SELECT COUNT(*) FROM care_places p WHERE p.offering_id = care_offerings.id AND p.status IN ('held', 'enrolled', 'offered')),
    waitlisted = (SELECT COUNT(*) FROM care_places p WHERE p.offering_id = care_offerings.id AND p.status = 'waitlisted')
WHERE kind <> 'basic';
