"""EssayCoach: rubric-based feedback on practice essays."""

__version__ = "0.1.0"
