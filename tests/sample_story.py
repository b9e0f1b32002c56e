"""One plain local news story, paragraph by paragraph: long enough prose to pass as an article body, so
that the boilerplate tests can wrap it in page furniture and check that exactly these paragraphs come out."""

from __future__ import annotations

PARAGRAPHS = [
    "The city council voted on Tuesday to expand the bus network, adding three routes that will connect the "
    "northern suburbs with the hospital district by the end of next year.",
    "Officials said the plan, which will cost about 40 million dollars, would be paid for by a regional "
    "transport levy that voters approved in a referendum last spring, and critics said it was too small.",
    "Construction is expected to begin in March, and the council said it would publish the full timetable "
    "for the new routes once the contracts with the operators have been signed.",
    "Drivers' unions welcomed the decision but warned that the network would need at least sixty more "
    "drivers, and that recruiting them would take longer than the council expects.",
    "The first of the new routes will run every ten minutes at peak hours and every twenty minutes in the "
    "evening, with night buses on Fridays and Saturdays from the summer onwards.",
]
