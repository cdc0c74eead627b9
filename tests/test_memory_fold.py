"""Documents replayed from the change log are held as Python dicts (~4 KB each) until the
table is read whole; then they are folded into its text and columns (~0.5 KB): the store
answers exactly as before, and writes after it are kept."""
from helpers import contents, person

from store import Batch, Store
from store.engine.memory import FOLD_IN_MEMORY


def test_a_table_read_whole_keeps_the_replayed_documents_as_text(tmp_path):
    path = tmp_path / "custdesk.json"
    count = FOLD_IN_MEMORY + 200
    with Store(path, user="tester") as store:
        store.add_customer("private", person(0))  # (the snapshot: the batch below is logged)
        store.apply_batch(Batch("private", creates=[person(n) for n in range(1, count)], action="import"))
        before = [store.customer(i) for i in range(1, count + 1)]
    with Store(path, user="tester") as store:
        customers = store.parts.session.db.tables["customers"]
        assert customers.written_count() >= count - 1  # replayed from the log, as dicts
        store.prepare_lookups()  # reads the customers whole: the log's documents are folded
        assert customers.written_count() == 0
        assert [store.customer(i) for i in range(1, count + 1)] == before
        assert [c["id"] for c in store.find("customers", "email", "ada7@example.com")] == [8]
        assert store.lookup("customers", "phone", ["+49301234" + f"{n:04d}" for n in (3, 1100)]) == [[4], [1101]]
        store.edit_customer(5, {"city": "Lyon"})
        store.delete(9)
        store.add_customer("private", person(count + 1))
        after = contents(store)
        assert store.find("customers", "email", "ada8@example.com") == []
    with Store(path, user="tester") as store:
        assert contents(store) == after and store.customer(5)["city"] == "Lyon"
