"""The course's exercise checkers, one module per exercise topic: ``exNN_<topic>.py`` defines ``EXERCISES``.

``course_utils.check("NN.name", ...)`` (``framework.check``) finds an exercise here by its id's prefix ``NN``. The
framework is ``framework`` (cases, tripwires, plain values, captured output), built from ``errors``, ``values``,
``guard``, ``tripwires``, ``student_code`` and ``integrity``; ``helpers`` and ``exNN_support`` hold what checkers
share.
"""
