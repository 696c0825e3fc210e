"""The course's exercise checkers, one module per notebook: ``exNN_<topic>.py`` defines ``EXERCISES``.

``course_utils.checks.check("NN.name", ...)`` finds an exercise here by its id's prefix ``NN``.
"""
