"""Ground-truth questions for the bundled Northwind Labs sample documents.

ANSWERABLE rows are (question, expected source filename, fact substring); the
fact appears verbatim in that file's extracted text and in exactly one
document's answer-bearing passage. UNANSWERABLE questions concern topics that
no sample document mentions, so Docent should say it does not know.
"""

from typing import Final

ANSWERABLE: Final[list[tuple[str, str, str]]] = [
    (
        "How many vacation days does a full-time employee get each year?",
        "leave-policy.md",
        "26 days",
    ),
    (
        "How many weeks of fully paid leave does the main carer get after a baby arrives?",
        "leave-policy.md",
        "18 weeks",
    ),
    (
        "What is the most I can pay for a hotel room per night on a trip to Berlin?",
        "expenses.md",
        "€165",
    ),
    (
        "How much am I paid back per km when I drive my own car for work?",
        "expenses.md",
        "€0.36",
    ),
    (
        "What is the minimum length for my Northwind account password?",
        "it-security.html",
        "14 characters",
    ),
    (
        "Who do I send a suspicious email to if I think it is a scam?",
        "it-security.html",
        "phishing@northwind.internal",
    ),
    (
        "How long is the probation period for new hires?",
        "onboarding.txt",
        "6 months",
    ),
    (
        "What is the street address of the Lisbon headquarters?",
        "office-locations.pdf",
        "Avenida da Liberdade 245",
    ),
    (
        "What number do I call to reach the front desk of the Dublin office?",
        "office-locations.pdf",
        "+353 1 555 0142",
    ),
    (
        "How many days a week am I allowed to work from home?",
        "remote-work.docx",
        "3 days",
    ),
    (
        "How much money does the company give me to set up a home workspace?",
        "remote-work.docx",
        "€600",
    ),
    (
        "From what flight length am I allowed to fly business class?",
        "travel-policy.pdf",
        "9 hours",
    ),
    (
        "Which travel agency do we have to use to book flights and hotels?",
        "travel-policy.pdf",
        "Meridian Travel",
    ),
    (
        "What is the maximum value of a single gift I'm allowed to accept?",
        "code-of-conduct.docx",
        "€75",
    ),
]

UNANSWERABLE: Final[list[str]] = [
    "What is the vesting schedule for employee stock options?",
    "What is on the cafeteria menu this week?",
    "Is there a dress code for the office?",
    "Am I allowed to bring my dog to work?",
    "Does the company pay for a gym membership?",
]
