-- Statistics without a join (docs/vision.md "Statistics"): each cell carries what the round recorded of its class
-- (whether the class is one of the round's, its grade and 学段), and each school's cells are also kept summed over its
-- classes (vision_stat_school_cells), so that every grouping but the class reads a few hundred rows per round, none joined.
ALTER TABLE vision_stat_cells ADD COLUMN in_round INTEGER NOT NULL DEFAULT 0;
ALTER TABLE vision_stat_cells ADD COLUMN grade_level INTEGER NULL;
ALTER TABLE vision_stat_cells ADD COLUMN period_name TEXT NULL;

UPDATE vision_stat_cells
SET in_round = 1,
    grade_level = (SELECT c.grade_level FROM vision_round_classes c
                   WHERE c.round_id = vision_stat_cells.round_id AND c.corp_id = vision_stat_cells.corp_id AND c.class_id = vision_stat_cells.class_id),
    period_name = (SELECT c.period_name FROM vision_round_classes c
                   WHERE c.round_id = vision_stat_cells.round_id AND c.corp_id = vision_stat_cells.corp_id AND c.class_id = vision_stat_cells.class_id)
WHERE EXISTS (SELECT 1 FROM vision_round_classes c
              WHERE c.round_id = vision_stat_cells.round_id AND c.corp_id = vision_stat_cells.corp_id AND c.class_id = vision_stat_cells.class_id);

CREATE TABLE vision_stat_school_cells (
    round_id INTEGER NOT NULL,
    corp_id TEXT NOT NULL,
    in_round INTEGER NOT NULL,
    grade_level INTEGER NOT NULL,
    period_name TEXT NOT NULL,
    sex TEXT NOT NULL,
    age_years INTEGER NOT NULL,
    screened INTEGER NOT NULL,
    valid INTEGER NOT NULL,
    myopic INTEGER NOT NULL,
    myopia_low INTEGER NOT NULL,
    myopia_moderate INTEGER NOT NULL,
    myopia_high INTEGER NOT NULL,
    ok_lens INTEGER NOT NULL,
    poor_known INTEGER NOT NULL,
    poor_vision INTEGER NOT NULL,
    poor_mild INTEGER NOT NULL,
    poor_moderate INTEGER NOT NULL,
    poor_severe INTEGER NOT NULL,
    PRIMARY KEY (round_id, corp_id, in_round, grade_level, period_name, sex, age_years)
);

-- A class without a grade or 学段 counts under grade 0 and the empty 学段, as the statistics show them.
INSERT INTO vision_stat_school_cells (round_id, corp_id, in_round, grade_level, period_name, sex, age_years, screened, valid, myopic,
                                     myopia_low, myopia_moderate, myopia_high, ok_lens, poor_known, poor_vision, poor_mild, poor_moderate,
                                     poor_severe)
SELECT round_id, corp_id, in_round, COALESCE(grade_level, 0), COALESCE(period_name, ''), sex, age_years, SUM(screened), SUM(valid),
       SUM(myopic), SUM(myopia_low), SUM(myopia_moderate), SUM(myopia_high), SUM(ok_lens), SUM(poor_known), SUM(poor_vision), SUM(poor_mild),
       SUM(poor_moderate), SUM(poor_severe)
FROM vision_stat_cells
GROUP BY round_id, corp_id, in_round, COALESCE(grade_level, 0), COALESCE(period_name, ''), sex, age_years;
