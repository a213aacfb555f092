-- Statistics without a join (docs/vision.md "Statistics"): each cell carries what the round recorded of its class
-- (whether the class is one of the round's, its grade and 学段), and each school's cells are also kept summed over its
-- classes (vision_stat_school_cells), so that every grouping but the class reads a few hundred rows per round, none joined.
ALTER TABLE vision_stat_cells
    ADD COLUMN in_round BOOL NOT NULL DEFAULT FALSE,
    ADD COLUMN grade_level INTEGER NULL,
    ADD COLUMN period_name VARCHAR(200) NULL;

UPDATE vision_stat_cells s
JOIN vision_round_classes c ON c.round_id = s.round_id AND c.corp_id = s.corp_id AND c.class_id = s.class_id
SET s.in_round = TRUE, s.grade_level = c.grade_level, s.period_name = c.period_name;

CREATE TABLE vision_stat_school_cells (
    round_id BIGINT NOT NULL,
    corp_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
    in_round BOOL NOT NULL,
    grade_level INTEGER NOT NULL,
    period_name VARCHAR(200) NOT NULL,
    sex VARCHAR(32) NOT NULL,
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
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- A class without a grade or 学段 counts under grade 0 and the empty 学段, as the statistics show them.
INSERT INTO vision_stat_school_cells (round_id, corp_id, in_round, grade_level, period_name, sex, age_years, screened, valid, myopic,
                                     myopia_low, myopia_moderate, myopia_high, ok_lens, poor_known, poor_vision, poor_mild, poor_moderate,
                                     poor_severe)
SELECT round_id, corp_id, in_round, COALESCE(grade_level, 0), COALESCE(period_name, ''), sex, age_years, SUM(screened), SUM(valid),
       SUM(myopic), SUM(myopia_low), SUM(myopia_moderate), SUM(myopia_high), SUM(ok_lens), SUM(poor_known), SUM(poor_vision), SUM(poor_mild),
       SUM(poor_moderate), SUM(poor_severe)
FROM vision_stat_cells
GROUP BY round_id, corp_id, in_round, COALESCE(grade_level, 0), COALESCE(period_name, ''), sex, age_years;
